"""forward_email_to_team: the triggering email, forwarded to team addresses over SMTP.

The execution's trigger must be an email: ``email.received``, or ``message.received`` with
``data.channel == "email"`` (:func:`beez.workflow.effects_comms.forwarded_email`, which the dry
run checks too). Data minimization: only what a person needs to act travels, the
sender (``data.from``), ``data.subject``, the date (``data.received_at``, else the event's time)
and the text (``data.text``, else ``data.body``); attachments, other headers, the contact's
other data and the event's other fields never leave. The message is new, from the step's
``from`` (a verified sender, as for send_email) to every ``to`` in one SMTP transaction, with
``Reply-To`` set to the original sender so a reply goes to the contact.

It reuses send_email's server choice (the organization's SMTP connection or the platform's),
sender check, TLS rule, error classification and deterministic ``Message-ID`` (from the step's
idempotency key): a crash between the send and the settle sends it again with the same
Message-ID, which mail systems and people recognise as one message. Team addresses are not the
contact, so no contact consent applies.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from beez.executor.actions.base import ActionContext, ActionResult, PermanentError
from beez.executor.actions.email import PreparedEmail, SendEmail, message_id_for
from beez.executor.actions.preview import Preview
from beez.workflow.effects import StepError
from beez.workflow.effects_comms import forwarded_email
from beez.workflow.recipients import parse_email

__all__ = ["ForwardEmailToTeam"]


class ForwardEmailToTeam:
    """``forward_email_to_team``: ``to`` (team addresses), ``note``, ``from``, ``connection``.

    Output: ``message_id``, ``to``, ``subject``, ``from``, ``smtp_response``.
    """

    type = "forward_email_to_team"

    def __init__(self, email: SendEmail) -> None:
        self.email = email

    def prepare(self, ctx: ActionContext) -> tuple[PreparedEmail, list[str]]:
        try:
            original = forwarded_email(ctx.event)
        except StepError as exc:
            raise PermanentError(str(exc), category=exc.category) from exc
        raw = ctx.config.get("to")
        given = [str(item).strip() for item in (raw if isinstance(raw, list) else [raw] if raw else [])]
        team = [parse_email(item) for item in given]
        if not given or any(address is None for address in team):
            raise PermanentError("`to` must list team email addresses", category="invalid_config")
        recipients = [address for address in team if address]
        server = self.email.server(ctx)
        sender, sender_address = self.email.sender(ctx, server)
        message = EmailMessage()
        message["From"] = sender if "<" in sender else formataddr(("", sender_address))
        message["To"] = ", ".join(recipients)
        message["Subject"] = f"Fwd: {original['subject']}"
        message["Date"] = format_datetime(ctx.now)
        message_id = message_id_for(ctx.idempotency_key, sender_address.rsplit("@", 1)[1])
        message["Message-ID"] = message_id
        message["X-Beez-Idempotency-Key"] = ctx.idempotency_key
        if original["from"]:
            message["Reply-To"] = original["from"]
        note = str(ctx.config.get("note") or "").strip()
        header = "\n".join(
            (
                "---------- Forwarded message ----------",
                f"From: {original['from'] or '(unknown)'}",
                f"Date: {original['date']}",
                f"Subject: {original['subject']}",
            )
        )
        message.set_content(
            f"{note}\n\n{header}\n\n{original['text']}" if note else f"{header}\n\n{original['text']}"
        )
        output = {
            "message_id": message_id,
            "to": recipients,
            "subject": str(message["Subject"]),
            "from": parseaddr(sender)[1],
        }
        return PreparedEmail(message, sender_address, recipients[0], output, server), recipients

    async def preview(self, ctx: ActionContext) -> Preview:
        prepared, recipients = self.prepare(ctx)
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
                "rcpt_to": recipients,
            },
        )

    async def run(self, ctx: ActionContext) -> ActionResult:
        prepared, recipients = self.prepare(ctx)
        response = await self.email.transmit(prepared, recipients)
        return ActionResult(output={**prepared.output, "smtp_response": response})
