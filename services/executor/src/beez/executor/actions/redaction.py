"""Keeping the actions' credentials out of everything an attempt leaves behind.

A provider may echo a credential back (an error quoting the token it refused, an answer repeating
the request), and an action's error message or output then carries it into the step log, the
dead letters, lifecycle events, logs and traces. :class:`Redacting` wraps each action of the
registry and replaces every credential of :class:`.settings.ActionSettings` (each SecretStr, and
the HTTP Basic form of the SMS account's), and those of the organization's connection the step
uses (its credentials and the access tokens it was given), with ``[redacted]`` in what the action reports: its
error messages, its output, the variables it sets. The original exception is not chained, so no
traceback can show it either.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from pydantic import SecretStr

from beez.executor.actions.base import Action, ActionContext, ActionError, ActionResult, TransientError
from beez.executor.actions.preview import REDACTED, Preview, Previewing
from beez.executor.actions.settings import ActionSettings

__all__ = ["REDACTED", "Redacting", "Redactor", "credentials"]
MIN_LENGTH = 6
"""Shorter values are not redacted: replacing every "abc" in a message would garble it, and a
credential that short protects nothing anyway."""


def credentials(settings: ActionSettings) -> list[str]:
    """Every credential of ``settings`` in the forms a provider might echo."""
    values = [
        value.get_secret_value()
        for name in type(settings).model_fields
        if isinstance(value := getattr(settings, name), SecretStr)
    ]
    token = settings.sms_auth_token.get_secret_value()
    if settings.sms_account_sid and token:
        values.append(base64.b64encode(f"{settings.sms_account_sid}:{token}".encode()).decode())
    return values


class Redactor:
    """Replaces known secret values in text and in JSON-like values."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= MIN_LENGTH}, key=len, reverse=True)

    def plus(self, more: Iterable[str]) -> Redactor:
        """A redactor of these secrets and ``more`` (a connection's credentials, decision 0040)."""
        return Redactor([*self._secrets, *more])

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)) if isinstance(k, str) else k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.value(v) for v in value)
        return value


class Redacting:
    """An action whose errors, results and previews never carry one of the redactor's secrets,
    nor those of the connection a step uses (decision 0040)."""

    def __init__(self, action: Action, redactor: Redactor) -> None:
        self.type = action.type
        self._action = action
        self._redactor = redactor

    def _for(self, ctx: ActionContext) -> Redactor:
        if ctx.connection is None:
            return self._redactor
        return self._redactor.plus(ctx.connection.secrets())

    async def run(self, ctx: ActionContext) -> ActionResult:
        try:
            result = await self._action.run(ctx)
        except ActionError as exc:
            message = str(exc)
            clean = self._for(ctx).text(message)
            if clean == message:
                raise
            exc.args = (clean,)
            raise exc.with_traceback(None) from None
        except Exception as exc:  # the engine would record its text: same treatment
            raise TransientError(
                self._for(ctx).text(f"{type(exc).__name__}: {exc}"), category="unknown"
            ) from None
        return self._result(result, self._for(ctx))

    async def preview(self, ctx: ActionContext) -> Preview | ActionResult | None:
        """The wrapped action's preview (:mod:`.preview`), credentials redacted, or the skip result
        it would report instead; None when the action has no preview."""
        action = self._action
        if not isinstance(action, Previewing):
            return None
        shown = await action.preview(ctx)
        redactor = self._for(ctx)
        if isinstance(shown, ActionResult):
            return self._result(shown, redactor)
        return Preview(
            kind=shown.kind,
            method=shown.method,
            url=redactor.text(shown.url),
            headers=redactor.value(shown.headers),
            body=redactor.text(shown.body),
            details=redactor.value(shown.details),
        )

    @staticmethod
    def _result(result: ActionResult, redactor: Redactor) -> ActionResult:
        return replace(
            result,
            reason=redactor.text(result.reason),
            output=redactor.value(result.output),
            vars=redactor.value(result.vars),
        )
