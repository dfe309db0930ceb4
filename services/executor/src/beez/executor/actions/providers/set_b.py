"""The provider actions of issue #14's second integrations set: Jira, Buffer, Mailchimp,
Intercom, Pipedrive/Close, Asana and monday.com (one line each in :mod:`..registry`)."""

from __future__ import annotations

from beez.executor.actions.base import Action
from beez.executor.actions.http import OutboundHttp
from beez.executor.actions.providers.asana import CreateAsanaTask
from beez.executor.actions.providers.buffer import PostSocialBuffer
from beez.executor.actions.providers.crm_sync import SyncCrm
from beez.executor.actions.providers.intercom import UpdateIntercomUser
from beez.executor.actions.providers.jira import CreateJiraTicket
from beez.executor.actions.providers.mailchimp import AddMailchimpMember
from beez.executor.actions.providers.monday import UpdateMondayBoard
from beez.executor.actions.settings import ActionSettings

__all__ = ["TYPES", "actions"]

TYPES: tuple[str, ...] = (
    "create_jira_ticket",
    "post_social_buffer",
    "add_mailchimp_member",
    "update_intercom_user",
    "sync_crm",
    "create_asana_task",
    "update_monday_board",
)


def actions(settings: ActionSettings, http: OutboundHttp) -> list[Action]:
    """One action per type of :data:`TYPES`, sharing the registry's HTTP client."""
    return [
        CreateJiraTicket(settings, http),
        PostSocialBuffer(settings, http),
        AddMailchimpMember(settings, http),
        UpdateIntercomUser(settings, http),
        SyncCrm(settings, http),
        CreateAsanaTask(settings, http),
        UpdateMondayBoard(settings, http),
    ]
