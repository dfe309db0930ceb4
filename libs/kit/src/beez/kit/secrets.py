"""Secret settings read from files: ``<NAME>_FILE`` for every secret setting ``<NAME>``.

Kubernetes mounts a Secret as files; pointing ``BEEZ_ACTIONS__SMTP_PASSWORD_FILE`` at one keeps
the password out of the process environment (and out of ``kubectl describe``). A setting is
secret when its type is :class:`~pydantic.SecretStr` or its field says so with
``json_schema_extra=SECRET`` (for a plain ``str`` such as a database URL holding a password).
Nested models are followed, with the settings' nested delimiter (``__``) in the name.

:class:`SecretFilesSource` is one settings source for every settings class (the services' and
the gateway's): it ranks below the environment, so ``<NAME>`` itself, when set, wins. A file that
cannot be read stops the process with a message naming the variable, never the content.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

__all__ = ["SECRET", "SecretFileError", "SecretFilesSource", "is_secret", "secret_fields"]

SECRET: dict[str, Any] = {"secret": True}
"""``json_schema_extra`` of a plain-typed field that is a secret (read from ``<NAME>_FILE`` too,
never echoed in a configuration error)."""


class SecretFileError(ValueError):
    """A ``<NAME>_FILE`` that names no readable file."""


def is_secret(field: FieldInfo) -> bool:
    """True for a SecretStr field, or one marked with :data:`SECRET`."""
    extra = field.json_schema_extra
    return field.annotation is SecretStr or (isinstance(extra, dict) and extra.get("secret") is True)


def _model(field: FieldInfo) -> type[BaseModel] | None:
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _key(name: str, field: FieldInfo) -> str:
    """What a settings source names the field by: its first alias when it has one."""
    alias = field.validation_alias
    if isinstance(alias, str):
        return alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return name


def _walk(
    cls: type[BaseModel], names: tuple[str, ...], keys: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
    for name, field in cls.model_fields.items():
        path, key = (*names, name), (*keys, _key(name, field))
        if is_secret(field):
            yield path, key
        nested = _model(field)
        if nested is not None:
            yield from _walk(nested, path, key)


def secret_fields(cls: type[BaseModel]) -> Iterator[tuple[str, ...]]:
    """The path (field names from the top) of every secret field of ``cls``, nested ones too."""
    for path, _ in _walk(cls, (), ()):
        yield path


class SecretFilesSource(PydanticBaseSettingsSource):
    """Values of secret settings from the files their ``<NAME>_FILE`` variables name."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self.prefix = str(settings_cls.model_config.get("env_prefix") or "")
        self.delimiter = str(settings_cls.model_config.get("env_nested_delimiter") or "__")

    def variable(self, path: tuple[str, ...]) -> str:
        """The ``<NAME>_FILE`` variable of the setting at ``path``."""
        return f"{self.prefix}{self.delimiter.join(path)}_FILE".upper()

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads everything at once

    def __call__(self) -> dict[str, Any]:
        environ = {key.upper(): value for key, value in os.environ.items()}
        values: dict[str, Any] = {}
        for path, keys in _walk(self.settings_cls, (), ()):
            name = self.variable(path)
            file = environ.get(name)
            if not file:
                continue
            try:
                secret = Path(file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise SecretFileError(f"{name}: cannot read {file}: {type(exc).__name__}") from None
            target = values
            for part in keys[:-1]:
                target = target.setdefault(part, {})
            target[keys[-1]] = secret.rstrip("\r\n")
        return values
