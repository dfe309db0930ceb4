"""Who a message goes to, and whether it may go at all (channel consent).

The same rules for email, SMS and WhatsApp, in the executor's actions and in the dry run:

- **Consent first.** ``contact.consent.<channel>`` must be true, whatever ``to`` says: the step
  runs about a contact and ``to`` may be a template over the contact's own data, so an explicit
  ``to`` cannot bypass the contact's choice. Without it the step is *skipped* with the reason
  ``no <channel> consent``. (Messages to the team go through ``send_slack`` or
  ``send_internal_notification``, which need no contact consent.)
- **No address.** When ``to`` is not given and the contact has no address for the channel, the
  step is *skipped* (``contact has no email address``): there is nobody to send to, which is not
  a failure of the automation.
- **Bad address.** A ``to`` that was given but renders empty or is not an address, or a contact
  address that is malformed, raises :class:`InvalidRecipient` (category ``invalid_recipient``),
  a permanent failure: retrying cannot fix it and the dead letter shows the data to correct.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from beez.workflow import catalog
from beez.workflow.catalog.actions_comms import MAX_DEVICE_TOKENS, PUSH_TOKENS_FIELD
from beez.workflow.effects import StepError

__all__ = [
    "LINK_TYPES",
    "Delivery",
    "InvalidRecipient",
    "Skip",
    "consent_skip",
    "contact_id",
    "delivery",
    "email_recipient",
    "parse_email",
    "phone_recipient",
    "push_tokens",
]

_EMAIL = re.compile(r"^[^@\s<>\"(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def _verbatim(text: str) -> str:
    return text


class InvalidRecipient(StepError):
    """A recipient that is not an address of its kind.

    ``str()`` quotes the value as given; :meth:`describe` takes a masking function, so the step
    log can show it masked.
    """

    def __init__(self, source: str, value: str, expected: str) -> None:
        self.source, self.value, self.expected = source, value, expected
        super().__init__(self.describe(), category="invalid_recipient")

    def describe(self, mask: Callable[[str], str] = _verbatim) -> str:
        """``<source> is not <expected>: '<value>'``, the value passed through ``mask``."""
        return f"{self.source} is not {self.expected}: {mask(self.value)!r}"


@dataclass(frozen=True)
class Skip:
    """A message that is not sent, and why: the step is skipped, neither sent nor failed."""

    reason: str
    channel: str

    @property
    def output(self) -> dict[str, Any]:
        """What the step log records with the skip."""
        return {"channel": self.channel}


@dataclass(frozen=True)
class Delivery:
    """Where a communication step's message goes: ``to``, or the :class:`Skip` that stops it."""

    channel: str | None
    """The contact channel; None for a message to the team (Slack)."""
    to: str = ""
    """The bare email address or E.164 number ("" for Slack and skips)."""
    skip: Skip | None = None
    header: str = field(default="", compare=False)
    """For email: the ``To`` header as given (``Ada <ada@example.com>``)."""


def contact_id(contact: Mapping[str, Any], event: Mapping[str, Any]) -> str:
    """The id of the step's contact ("" when the execution has none)."""
    return str(contact.get("id") or event.get("contact_id") or "")


def consent_skip(contact: Mapping[str, Any], channel: str) -> Skip | None:
    """A skip when the contact has not consented to ``channel``, else None."""
    consent = contact.get("consent")
    if isinstance(consent, dict) and consent.get(channel) is True:
        return None
    return Skip(f"no {channel} consent", channel)


def _given(config: Mapping[str, Any], key: str) -> str | None:
    """``config[key]`` stripped, or None when the key is absent."""
    if key not in config or config[key] is None:
        return None
    return str(config[key]).strip()


def parse_email(value: str) -> str | None:
    """The bare address of ``ada@example.com`` or ``Ada <ada@example.com>``, or None."""
    if not value or any(c in value for c in "\r\n\0"):
        return None
    _, address = parseaddr(value)
    return address if _EMAIL.match(address) else None


def email_recipient(config: Mapping[str, Any], contact: Mapping[str, Any]) -> tuple[str, str] | Skip:
    """``(header value, bare address)`` of the recipient (``to``, else the contact's email), or a skip.

    Raises:
        InvalidRecipient: a malformed address.
    """
    given = _given(config, "to")
    raw = given if given is not None else str(contact.get("email") or "").strip()
    if given is None and not raw:
        return Skip("contact has no email address", "email")
    address = parse_email(raw)
    if address is None:
        raise InvalidRecipient(
            "`to`" if given is not None else "the contact's email", raw, "an email address"
        )
    return raw, address


def phone_recipient(config: Mapping[str, Any], contact: Mapping[str, Any], channel: str) -> str | Skip:
    """The recipient's number in E.164 (``+2348012345678``): ``to``, else the contact's phone; or a skip.

    Spaces, dots, dashes and parentheses are dropped; ``00`` becomes ``+``; a number without
    ``+`` is read as already international (``2348012345678``). National formats (``0801...``)
    are refused.

    Raises:
        InvalidRecipient: a malformed number.
    """
    given = _given(config, "to")
    raw = given if given is not None else str(contact.get("phone") or "").strip()
    if given is None and not raw:
        return Skip("contact has no phone number", channel)
    number = _PHONE_SEPARATORS.sub("", raw)
    if number.startswith("00"):
        number = "+" + number[2:]
    if not number.startswith("+"):
        number = "+" + number
    if not _E164.match(number):
        source = "`to`" if given is not None else "the contact's phone"
        raise InvalidRecipient(source, raw, "an international phone number")
    return number


LINK_TYPES = frozenset({"send_personalized_video", "send_survey"})
"""Actions whose channel (email, sms, whatsapp) is their config's ``channel``."""


def push_tokens(config: Mapping[str, Any], contact: Mapping[str, Any]) -> list[str] | Skip:
    """The FCM registration tokens a push goes to: ``device_tokens``, else the contact's custom
    field ``push_tokens`` (``contact.fields.push_tokens``); a skip when there are none. At most
    :data:`MAX_DEVICE_TOKENS`, duplicates dropped.

    Raises:
        InvalidRecipient: a given token that is empty or not text.
    """
    given = config.get("device_tokens")
    fields = contact.get("fields")
    raw = (
        given
        if given is not None
        else (fields or {}).get(PUSH_TOKENS_FIELD)
        if isinstance(fields, dict)
        else None
    )
    if given is None and not raw:
        return Skip("contact has no push device token", "push")
    values = raw if isinstance(raw, list) else [raw]
    tokens: list[str] = []
    for value in values:
        token = str(value).strip() if isinstance(value, str) else ""
        if not token or any(c.isspace() for c in token):
            source = "`device_tokens`" if given is not None else f"the contact's {PUSH_TOKENS_FIELD}"
            raise InvalidRecipient(source, str(value), "a device token")
        if token not in tokens:
            tokens.append(token)
    return tokens[:MAX_DEVICE_TOKENS]


def delivery(type_: str, config: Mapping[str, Any], contact: Mapping[str, Any]) -> Delivery:
    """Consent, then the recipient, of a communication step of ``type_`` with this rendered config.

    Raises:
        InvalidRecipient: a malformed address.
    """
    channel = catalog.channel(type_)
    if type_ in LINK_TYPES:  # a tracked link goes by the channel the step chooses
        channel = str(config.get("channel") or channel)
    if channel is None:  # Slack and forwards go to the team
        return Delivery(None)
    skipped = consent_skip(contact, channel)
    if skipped is not None:
        return Delivery(channel, skip=skipped)
    if channel == "push":
        tokens = push_tokens(config, contact)
        if isinstance(tokens, Skip):
            return Delivery(channel, skip=tokens)
        return Delivery(channel, ",".join(tokens), header=",".join(tokens))
    if channel == "email":
        found = email_recipient(config, contact)
        if isinstance(found, Skip):
            return Delivery(channel, skip=found)
        return Delivery(channel, found[1], header=found[0])
    number = phone_recipient(config, contact, channel)
    if isinstance(number, Skip):
        return Delivery(channel, skip=number)
    return Delivery(channel, number, header=number)
