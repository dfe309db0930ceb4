"""The communication actions of issue #14 §2 (decision 0046), built for the registry.

send_push (:mod:`.push`), schedule_email and cancel_scheduled_message (:mod:`.scheduled`),
send_personalized_video and send_survey (:mod:`.links`), create_email_draft (a platform command,
:func:`beez.workflow.effects_comms.create_email_draft`) and forward_email_to_team (:mod:`.forward`).
"""

from __future__ import annotations

from beez.executor.actions.base import Action, ActionContext, ActionResult
from beez.executor.actions.crm import effect_result
from beez.executor.actions.email import SendEmail
from beez.executor.actions.forward import ForwardEmailToTeam
from beez.executor.actions.http import OutboundHttp
from beez.executor.actions.links import LINK_ACTIONS, SendTrackedLink
from beez.executor.actions.push import SendPush
from beez.executor.actions.scheduled import CancelScheduledMessage, ScheduleEmail
from beez.executor.actions.settings import ActionSettings
from beez.kit.tracking import TrackingKeys
from beez.workflow.effects_comms import create_email_draft

__all__ = ["CreateEmailDraft", "actions"]


class CreateEmailDraft:
    """``create_email_draft {subject, body, to?, assignee?}`` → ``create_email_draft`` command to
    the inbox module (commands_comms.proto); nothing is sent to the contact."""

    type = "create_email_draft"

    async def run(self, ctx: ActionContext) -> ActionResult:
        return effect_result(ctx, create_email_draft)


def actions(
    settings: ActionSettings,
    http: OutboundHttp,
    email: SendEmail,
    channels: dict[str, Action],
    keys: TrackingKeys | None,
) -> list[Action]:
    """Every action of this module, sharing the registry's email action, channels and client."""
    return [
        SendPush(settings, http),
        ScheduleEmail(email),
        CancelScheduledMessage(),
        *(SendTrackedLink(type_, settings, channels, keys) for type_ in LINK_ACTIONS),
        CreateEmailDraft(),
        ForwardEmailToTeam(email),
    ]
