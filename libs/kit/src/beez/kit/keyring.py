"""A key ring that encrypts secrets at rest (Fernet, from ``cryptography``): the executor's
webhook signing secrets (``BEEZ_SIGNING_KEYS_FILE``, decision 0019) and the trigger's inbound
hook secrets (``BEEZ_HOOK_KEYS_FILE``, decision 0036).

The key file (a Kubernetes Secret mounted as a file) holds one key per line as
``<key id>:<Fernet key>``; blank lines and ``#`` comments are ignored. The first key encrypts;
every key decrypts (a :class:`~cryptography.fernet.MultiFernet`), so the ring rotates by putting
a new key first and keeping the old ones until every secret has been re-encrypted
(:meth:`KeyRing.rewrap`). Each stored secret records the id of the key that encrypted it.

Local mode without a file uses :data:`LOCAL_KEYS`, a fixed development key that protects
nothing; production refuses to start without the file (``ExecutorSettings``) or refuses to
create secrets (the trigger's hooks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["LOCAL_KEYS", "KeyRing", "KeyRingError"]

LOCAL_KEYS = "local-dev:bG9jYWwtZGV2LW9ubHktbm90LWEtc2VjcmV0LWtleSE="
"""The development key ring of local mode: public, so it protects nothing."""

_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class KeyRingError(ValueError):
    """A key ring file that cannot be used; the message never contains a key."""


@dataclass(frozen=True)
class KeyRing:
    """Fernet keys by id; the first encrypts, all decrypt."""

    ids: tuple[str, ...]
    fernets: tuple[Fernet, ...]

    @classmethod
    def parse(cls, text: str, source: str = "the signing key ring") -> KeyRing:
        ids: list[str] = []
        fernets: list[Fernet] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key_id, sep, key = line.partition(":")
            key_id, key = key_id.strip(), key.strip()
            if not sep or not _KEY_ID.match(key_id):
                raise KeyRingError(f"{source} line {number}: expected '<key id>:<Fernet key>'")
            if key_id in ids:
                raise KeyRingError(f"{source} line {number}: key id {key_id!r} appears twice")
            try:
                fernets.append(Fernet(key))
            except ValueError:
                raise KeyRingError(
                    f"{source} line {number}: key {key_id!r} is not a Fernet key (32 url-safe base64 bytes)"
                ) from None
            ids.append(key_id)
        if not ids:
            raise KeyRingError(f"{source} holds no key")
        return cls(tuple(ids), tuple(fernets))

    @classmethod
    def load(cls, path: str, setting: str = "BEEZ_SIGNING_KEYS_FILE") -> KeyRing:
        """The ring in the file ``path``, or :data:`LOCAL_KEYS` when ``path`` is empty.

        ``setting`` names the variable that gave ``path``, in error messages.
        """
        if not path:
            return cls.parse(LOCAL_KEYS, "the local development key ring")
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise KeyRingError(f"{setting}: cannot read {path}: {type(exc).__name__}") from None
        return cls.parse(text, f"{setting} ({path})")

    @property
    def primary(self) -> str:
        """The id of the key that encrypts."""
        return self.ids[0]

    def encrypt(self, secret: str) -> tuple[str, bytes]:
        """``secret`` encrypted with the primary key, and that key's id."""
        return self.primary, self.fernets[0].encrypt(secret.encode())

    def decrypt(self, token: bytes) -> str:
        """The secret in ``token``, whichever key of the ring encrypted it."""
        try:
            return MultiFernet(list(self.fernets)).decrypt(token).decode()
        except InvalidToken:
            raise KeyRingError("a stored secret was encrypted with a key that is not in the ring") from None

    def rewrap(self, token: bytes) -> bytes:
        """``token`` re-encrypted with the primary key (``MultiFernet.rotate``)."""
        return MultiFernet(list(self.fernets)).rotate(token)
