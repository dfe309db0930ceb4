"""Who a message goes to, and whether it may go at all (channel consent).

Decisions, the same for email, SMS and WhatsApp:

- **Consent first.** ``contact.consent.<channel>`` must be true, whatever ``to`` says: the step
  runs about a contact and ``to`` may be a template over the contact's own data, so an explicit
  ``to`` cannot bypass the contact's choice. Without it the step is *skipped* with the reason
  ``no <channel> consent``, and nothing is called. (Messages to the team go through
  ``send_slack`` or ``send_internal_notification``, which need no contact consent.)
- **No address.** When ``to`` is not given and the contact has no address for the channel, the
  step is *skipped* (``contact has no email address``): there is nobody to send to, which is not
  a failure of the automation.
- **Bad address.** A ``to`` that was given but renders empty or is not an address, or a contact
  address that is malformed, fails the step permanently (``invalid_recipient``): retrying cannot
  fix it and the dead letter shows the data to correct.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import Any

from beez.executor.actions.base import ActionContext, ActionResult, PermanentError
from beez.kit.logging import mask_text

__all__ = [
    "consent_skip",
    "contact_id",
    "email_recipient",
    "phone_recipient",
]

_EMAIL = re.compile(r"^[^@\s<>\"(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def contact_id(ctx: ActionContext) -> str:
    """The id of the step's contact ("" when the execution has none)."""
    return str(ctx.contact.get("id") or ctx.event.get("contact_id") or "")


def consent_skip(ctx: ActionContext, channel: str) -> ActionResult | None:
    """A ``skipped`` result when the contact has not consented to ``channel``, else None."""
    consent = ctx.contact.get("consent")
    if isinstance(consent, dict) and consent.get(channel) is True:
        return None
    return ActionResult(status="skipped", reason=f"no {channel} consent", output={"channel": channel})


def _given(config: dict[str, Any], key: str) -> str | None:
    """``config[key]`` stripped, or None when the key is absent."""
    if key not in config or config[key] is None:
        return None
    return str(config[key]).strip()


def email_recipient(ctx: ActionContext) -> tuple[str, str] | ActionResult:
    """``(header value, bare address)`` of the recipient, or a ``skipped`` result.

    Raises:
        PermanentError: ``invalid_recipient`` for a malformed address.
    """
    given = _given(ctx.config, "to")
    raw = given if given is not None else str(ctx.contact.get("email") or "").strip()
    if given is None and not raw:
        return ActionResult(
            status="skipped", reason="contact has no email address", output={"channel": "email"}
        )
    address = parse_email(raw)
    if address is None:
        source = "`to`" if given is not None else "the contact's email"
        raise PermanentError(
            f"{source} is not an email address: {mask_text(raw)!r}", category="invalid_recipient"
        )
    return raw, address


def parse_email(value: str) -> str | None:
    """The bare address of ``ada@example.com`` or ``Ada <ada@example.com>``, or None."""
    if not value or any(c in value for c in "\r\n\0"):
        return None
    _, address = parseaddr(value)
    return address if _EMAIL.match(address) else None


def phone_recipient(ctx: ActionContext, channel: str) -> str | ActionResult:
    """The recipient's number in E.164 (``+2348012345678``), or a ``skipped`` result.

    Spaces, dots, dashes and parentheses are dropped; a number without ``+`` is read as
    already international (``2348012345678``). National formats (``0801...``) are refused.

    Raises:
        PermanentError: ``invalid_recipient`` for a malformed number.
    """
    given = _given(ctx.config, "to")
    raw = given if given is not None else str(ctx.contact.get("phone") or "").strip()
    if given is None and not raw:
        return ActionResult(
            status="skipped", reason="contact has no phone number", output={"channel": channel}
        )
    number = _PHONE_SEPARATORS.sub("", raw)
    if number.startswith("00"):
        number = "+" + number[2:]
    if not number.startswith("+"):
        number = "+" + number
    if not _E164.match(number):
        source = "`to`" if given is not None else "the contact's phone"
        raise PermanentError(
            f"{source} is not an international phone number: {mask_text(raw)!r}", category="invalid_recipient"
        )
    return number
