"""Effects of the communication steps that only send a platform command (decision 0046).

``create_email_draft`` asks the inbox module for a draft a person reviews and sends: nothing goes
to the contact from the step, so no consent applies; the recipient is still checked (``to``, else
the contact's email) so the draft is never addressed to nobody.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from beez.workflow.effects import Effect, StepError, text

__all__ = ["EMAIL_EVENTS", "create_email_draft", "forwarded_email"]

EMAIL_EVENTS = frozenset({"email.received", "message.received"})
"""The triggers forward_email_to_team forwards (``message.received`` only by email)."""


def create_email_draft(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``create_email_draft {subject, body, to?, assignee?}``: the ``create_email_draft`` command.

    Raises:
        StepError: an empty subject or body, or no recipient; InvalidRecipient (a StepError):
            a malformed one.
    """
    from beez.workflow import recipients  # recipients builds on effects: imported when used

    subject = " ".join(text(config, "subject").split())
    body = text(config, "body")
    assignee = text(config, "assignee", required=False)
    found = recipients.email_recipient(config, contact)
    if isinstance(found, recipients.Skip):
        raise StepError("the contact has no email address to draft to", category="invalid_recipient")
    to = found[1]
    values = {"to": to, "subject": subject, "body": body, "assignee": assignee}
    output: dict[str, Any] = {"command": "create_email_draft", "to": to, "subject": subject}
    if assignee:
        output["assignee"] = assignee
    return Effect("create_email_draft", values, output)


def forwarded_email(event: Mapping[str, Any]) -> dict[str, str]:
    """What forward_email_to_team forwards of its trigger (data minimization): ``from``,
    ``subject``, ``date`` and ``text``, nothing else.

    Raises:
        StepError: the trigger is not an email (``not_an_email``).
    """
    raw = event.get("data")
    data: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    kind = str(event.get("type") or "")
    channel = str(data.get("channel") or "email")
    if kind not in EMAIL_EVENTS or channel != "email":
        shown = kind or "none"
        if kind == "message.received":
            shown += f" by {channel}"
        raise StepError(
            f"forward_email_to_team needs an email trigger (email.received, or message.received "
            f"by email), not {shown}",
            category="not_an_email",
        )
    from beez.workflow import recipients

    sender = str(data.get("from") or data.get("sender") or "")
    return {
        "from": sender if recipients.parse_email(sender) else "",
        "subject": " ".join(str(data.get("subject") or "(no subject)").split()),
        "date": str(data.get("received_at") or event.get("occurred_at") or ""),
        "text": str(data.get("text") or data.get("body") or ""),
    }
