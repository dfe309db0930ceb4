"""Consent and recipients of email, SMS and WhatsApp steps, as action results and errors.

The rules (consent first; no address: skipped; a bad address: ``invalid_recipient``) are
:mod:`beez.workflow.recipients`, which the dry run follows too. This module only turns its
answers into what an action returns or raises: a :class:`~beez.workflow.recipients.Skip` into a
``skipped`` result, an :class:`~beez.workflow.recipients.InvalidRecipient` into a permanent
error whose message shows the address masked.
"""

from __future__ import annotations

from beez.executor.actions.base import ActionContext, ActionResult, PermanentError
from beez.kit.logging import mask_text
from beez.workflow import recipients

__all__ = ["delivery", "skipped"]


def delivery(ctx: ActionContext, action_type: str) -> recipients.Delivery:
    """Where the step's message goes (or the skip that stops it): consent, then the recipient.

    Raises:
        PermanentError: ``invalid_recipient`` for a malformed address.
    """
    try:
        return recipients.delivery(action_type, ctx.config, ctx.contact)
    except recipients.InvalidRecipient as exc:
        raise PermanentError(exc.describe(mask_text), category=exc.category) from exc


def skipped(skip: recipients.Skip) -> ActionResult:
    """The ``skipped`` result of a message that is not sent."""
    return ActionResult(status="skipped", reason=skip.reason, output=skip.output)
