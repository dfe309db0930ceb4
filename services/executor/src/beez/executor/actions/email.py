"""send_email: one message over SMTP (aiosmtplib): text, and an HTML alternative when given.

The message carries ``Message-ID: <sha256(idempotency key)@sender domain>`` and
``X-Beez-Idempotency-Key``, so the same attempt delivered twice (a crash between the send and the
commit) is recognisable as one message downstream.

Errors: connection failures and timeouts, and SMTP 4xx replies, are transient; SMTP 5xx replies
(recipient or sender refused, data rejected, authentication failed) are permanent. Missing SMTP
settings are permanent (``not_configured``).

An organization's own SMTP connection (decision 0040: the one the step names, or its only one)
replaces the platform's server, credentials and default From; its ``from`` counts as a verified
sender. Without one, the platform's settings are used.

Credentials only travel encrypted: with ``smtp_username`` set, the connection is implicit TLS
(``smtp_use_tls``) or upgraded with STARTTLS before AUTH, always; a server that offers no STARTTLS
fails the step for good (``smtp_tls_required``) with nothing sent, and a configuration that turns
STARTTLS off with a username stops the executor at start (:class:`.settings.ActionSettings`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

import aiosmtplib

from beez.executor.actions.base import ActionContext, ActionResult, PermanentError, TransientError
from beez.executor.actions.preview import Preview
from beez.executor.actions.recipients import delivery, skipped
from beez.executor.actions.settings import ActionSettings
from beez.executor.actions.tracking import EmailTracking
from beez.kit.tracking import TrackingKeys
from beez.workflow.errors import TemplateError
from beez.workflow.recipients import parse_email
from beez.workflow.senders import SenderPolicy
from beez.workflow.templates import render

__all__ = ["PreparedEmail", "SendEmail", "message_id_for"]


def message_id_for(idempotency_key: str, domain: str) -> str:
    """The Message-ID an attempt's email carries: the same key gives the same id."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain or 'beez.invalid'}>"


def template_context(ctx: ActionContext) -> dict[str, Any]:
    """What stored templates see: the same roots as config templates."""
    return {
        "contact": ctx.contact,
        "event": ctx.event,
        "vars": ctx.vars,
        "execution": {
            "id": ctx.execution_id,
            "automation_id": ctx.automation_id,
            "step_id": ctx.step_id,
            "step_path": ctx.step_path,
            "attempt": ctx.attempt,
        },
    }


@dataclass(frozen=True)
class _Server:
    """The SMTP server a message goes through (the connection's, or the platform's)."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    use_tls: bool
    start_tls: bool | None
    default_from: str
    own: bool = False


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _smtp_error(exc: Exception, where: str) -> TransientError | PermanentError:
    """Transient for 4xx and connection trouble, permanent for 5xx."""
    code: int | None = None
    detail = str(exc)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        code = min(r.code for r in exc.recipients)  # any 4xx means it may pass later
        detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        code = exc.code
        detail = f"{exc.code} {exc.message}"
    message = f"{where}: {type(exc).__name__}: {detail}"
    if code is not None and 400 <= code < 500:
        return TransientError(message, category="smtp_4xx")
    if code is not None and code >= 500:
        category = "smtp_auth" if isinstance(exc, aiosmtplib.SMTPAuthenticationError) else "smtp_5xx"
        return PermanentError(message, category=category)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return PermanentError(message, category="smtp_not_supported")
    if isinstance(exc, TimeoutError):
        return TransientError(message, category="timeout")
    return TransientError(message, category="connection")


def _no_starttls(exc: Exception) -> bool:
    """aiosmtplib's refusal to go on when STARTTLS was required and the server does not offer it."""
    return type(exc) is aiosmtplib.SMTPException and "STARTTLS extension not supported" in str(exc)


@dataclass(frozen=True)
class PreparedEmail:
    """An email ready to go: the message, its envelope, and the step's output without the reply."""

    message: EmailMessage
    sender: str
    recipient: str
    output: dict[str, Any]
    server: _Server


class SendEmail:
    """``send_email``: ``template`` (stored, see ``ActionSettings.email_templates``) and/or
    ``subject`` + ``body``, ``to`` (default the contact's email), ``from``, ``reply_to``; ``html``
    adds an HTML alternative to the text body, whose links and open pixel are tracked
    (``track_opens``, ``track_clicks``, ``campaign_id``: :mod:`.tracking`).

    Output: ``message_id``, ``to``, ``subject``, ``smtp_response``, and with ``html``
    ``tracked_opens`` and ``tracked_links``.
    """

    type = "send_email"

    def __init__(
        self,
        settings: ActionSettings,
        senders: SenderPolicy | None = None,
        tracking_keys: TrackingKeys | None = None,
    ) -> None:
        """``senders``: who each organization may send as (decision 0023); without it, only the
        default From address. ``tracking_keys`` sign the tracked links and open pixel of HTML
        bodies (decision 0041); without them nothing is tracked."""
        self.settings = settings
        self.senders = senders or SenderPolicy(settings.default_from)
        self.tracking = EmailTracking(settings, tracking_keys)

    def _content(self, ctx: ActionContext) -> tuple[str, str]:
        subject = ctx.config.get("subject")
        body = ctx.config.get("body")
        name = ctx.config.get("template")
        if name:
            stored = self.settings.email_templates.get(str(name))
            if stored is None:
                raise PermanentError(f"no email template named {name!r}", category="unknown_template")
            try:
                if subject is None:
                    subject = render(stored.subject, template_context(ctx))
                if body is None:
                    body = render(stored.body, template_context(ctx))
            except TemplateError as exc:
                raise PermanentError(f"email template {name!r}: {exc}", category="template") from exc
        if subject is None or body is None:
            raise PermanentError(
                "send_email needs a template, or a subject and a body", category="invalid_config"
            )
        return _one_line(str(subject)), str(body)

    def sender(self, ctx: ActionContext, server: _Server) -> tuple[str, str]:
        """The From (as given, and bare) the step may send as through ``server``.

        Raises:
            PermanentError: no valid From, an unverified sender, or no SMTP server.
        """
        sender = str(ctx.config.get("from") or server.default_from).strip()
        sender_address = parse_email(sender)
        if sender_address is None:
            raise PermanentError(
                "no valid From address (config `from`, the connection's `from` or settings default_from)",
                category="not_configured",
            )
        own_sender = server.own and parse_email(server.default_from) == sender_address
        if not own_sender and not self.senders.allows(ctx.org_id, sender):
            raise PermanentError(
                f"From {sender_address!r} is not a verified sender of the organization",
                category="unverified_sender",
            )
        if not server.host:
            raise PermanentError("SMTP is not configured (smtp_host)", category="not_configured")
        return sender, sender_address

    def server(self, ctx: ActionContext) -> _Server:
        """The organization's SMTP connection when the step uses one, else the platform's."""
        settings = self.settings
        if ctx.connection is None:
            return _Server(
                host=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=settings.smtp_password.get_secret_value(),
                use_tls=settings.smtp_use_tls,
                start_tls=settings.smtp_start_tls,
                default_from=settings.default_from,
            )
        own = ctx.connection.credentials
        use_tls = own.get("use_tls", "").lower() in ("1", "true", "yes")
        return _Server(
            host=own.get("host", ""),
            port=int(own.get("port") or (465 if use_tls else 587)),
            username=own.get("username", ""),
            password=own.get("password", ""),
            use_tls=use_tls,
            start_tls=None,
            default_from=own.get("from", ""),
            own=True,
        )

    def prepare(self, ctx: ActionContext) -> PreparedEmail | ActionResult:
        """The message :meth:`run` sends, or the skip result when consent or address is missing."""
        found = delivery(ctx, self.type)
        if found.skip is not None:
            return skipped(found.skip)
        to_header, to_address = found.header, found.to
        server = self.server(ctx)
        sender, sender_address = self.sender(ctx, server)
        subject, body = self._content(ctx)

        message = EmailMessage()
        message["From"] = sender if "<" in sender else formataddr(("", sender_address))
        message["To"] = to_header
        message["Subject"] = subject
        message["Date"] = format_datetime(ctx.now)
        message_id = message_id_for(ctx.idempotency_key, sender_address.rsplit("@", 1)[1])
        message["Message-ID"] = message_id
        message["X-Beez-Idempotency-Key"] = ctx.idempotency_key
        reply_to = ctx.config.get("reply_to")
        if reply_to:
            if parse_email(str(reply_to)) is None:
                raise PermanentError("`reply_to` is not an email address", category="invalid_config")
            message["Reply-To"] = str(reply_to)
        message.set_content(body)
        tracked = None
        html = ctx.config.get("html")
        if html is not None and str(html).strip():
            tracked = self.tracking.apply(ctx, str(html), message_id)
            message.add_alternative(tracked.html, subtype="html")
        output: dict[str, Any] = {
            "message_id": message_id,
            "to": to_address,
            "subject": subject,
            "from": parseaddr(sender)[1],
            "connection": ctx.connection.name if ctx.connection is not None else "",
        }
        if tracked is not None:
            output["tracked_opens"] = tracked.opens
            output["tracked_links"] = tracked.links
        return PreparedEmail(message, sender_address, to_address, output, server)

    async def preview(self, ctx: ActionContext) -> Preview | ActionResult:
        """The SMTP envelope and the whole message :meth:`run` would send (no connection made)."""
        prepared = self.prepare(ctx)
        if isinstance(prepared, ActionResult):
            return prepared
        return Preview(
            kind="smtp",
            method="SMTP",
            url=f"smtp://{prepared.server.host}:{prepared.server.port}",
            headers={name: str(value) for name, value in prepared.message.items()},
            body=prepared.message.as_string(),
            details={
                "host": prepared.server.host,
                "port": prepared.server.port,
                "mail_from": prepared.sender,
                "rcpt_to": [prepared.recipient],
            },
        )

    async def run(self, ctx: ActionContext) -> ActionResult:
        prepared = self.prepare(ctx)
        if isinstance(prepared, ActionResult):
            return prepared
        response = await self.transmit(prepared)
        return ActionResult(output={**prepared.output, "smtp_response": response})

    async def transmit(self, prepared: PreparedEmail, recipients: list[str] | None = None) -> str:
        """Sends a prepared message (to ``recipients``, default its one recipient); the server's
        answer. Raises the errors of the module docstring."""
        settings, server = self.settings, prepared.server
        where = f"SMTP {server.host}:{server.port}"
        tls_required = bool(server.username) and not server.use_tls
        try:
            _, response = await aiosmtplib.send(
                prepared.message,
                sender=prepared.sender,
                recipients=recipients or [prepared.recipient],
                hostname=server.host,
                port=server.port,
                username=server.username or None,
                password=server.password or None,
                use_tls=server.use_tls,
                start_tls=True if tls_required else server.start_tls,
                validate_certs=settings.smtp_validate_certs,
                cert_bundle=settings.smtp_ca_file or None,
                timeout=settings.smtp_timeout_s,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            if tls_required and _no_starttls(exc):
                raise PermanentError(
                    f"{where} offers no STARTTLS: the SMTP credentials are never sent unencrypted, "
                    "so nothing was sent",
                    category="smtp_tls_required",
                ) from exc
            raise _smtp_error(exc, where) from exc
        return str(response)
