"""Which connections an action can use, and the check validation makes of a workflow's steps
against the organization's connections (decision 0040).

The executor owns connections; this is the part of their rules both it and the automation
service need: the providers whose connection each action type can use
(:data:`ACTION_PROVIDERS`), the actions that fall back to the organization's only connection
of a provider when a step names none (:data:`DEFAULT_PROVIDERS`), and :func:`connection_issues`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from beez.api.workflow.v1.workflow_pb2 import Action, Workflow
from beez.workflow.errors import Issue, join_path

__all__ = [
    "ACTION_PROVIDERS",
    "DEFAULT_PROVIDERS",
    "KnownConnection",
    "connection_issues",
    "uses_connections",
]

INTEGRATIONS_B: dict[str, str] = {
    "create_jira_ticket": "jira",
    "post_social_buffer": "buffer",
    "add_mailchimp_member": "mailchimp",
    "update_intercom_user": "intercom",
    "create_asana_task": "asana",
    "update_monday_board": "monday",
}
"""Provider actions that need a connection of one provider (``sync_crm`` takes Pipedrive or Close)."""

_TOKEN_PROVIDERS = frozenset({"slack", "stripe", "hubspot", "salesforce", "google"})

ACTION_PROVIDERS: dict[str, frozenset[str]] = {
    "send_email": frozenset({"smtp"}),
    "send_whatsapp": frozenset({"whatsapp"}),
    "send_sms": frozenset({"twilio"}),
    "send_slack": frozenset({"slack"}),
    "call_api": _TOKEN_PROVIDERS,  # its token, only towards that provider's base URL
    # provider actions (decision 0044): each needs its provider's connection
    "update_stripe_subscription": frozenset({"stripe"}),
    "create_shopify_order": frozenset({"shopify"}),
    "append_google_sheets_row": frozenset({"google"}),
    "create_salesforce_lead": frozenset({"salesforce"}),
    "update_hubspot_contact": frozenset({"hubspot"}),
    "enrich_contact": _TOKEN_PROVIDERS,  # as call_api
    "send_push": frozenset({"fcm"}),
    "schedule_email": frozenset({"smtp"}),
    "forward_email_to_team": frozenset({"smtp"}),
    # the connection of the channel the step chooses (email, sms or whatsapp)
    "send_personalized_video": frozenset({"smtp", "twilio", "whatsapp"}),
    "send_survey": frozenset({"smtp", "twilio", "whatsapp"}),
    **{action: frozenset({provider}) for action, provider in INTEGRATIONS_B.items()},
    "sync_crm": frozenset({"pipedrive", "close"}),
}
"""The providers whose connection each action type can use."""

DEFAULT_PROVIDERS: dict[str, str] = {
    "send_email": "smtp",
    "send_whatsapp": "whatsapp",
    "send_sms": "twilio",
    "send_push": "fcm",
    "schedule_email": "smtp",
    "forward_email_to_team": "smtp",
}
"""Actions that use the organization's only connection of a provider when a step names none
(and the platform's settings when it has none)."""


@dataclass(frozen=True)
class KnownConnection:
    """One of the organization's connections, as validation sees it."""

    id: str
    name: str
    provider: str


def _named(action: Action) -> str | None:
    value = action.config.fields.get("connection")
    return value.string_value if value is not None and value.WhichOneof("kind") == "string_value" else None


def uses_connections(workflow: Workflow) -> bool:
    """Whether checking ``workflow`` needs the organization's connections at all."""

    def walk(actions: Sequence[Action]) -> bool:
        return any(
            action.type in DEFAULT_PROVIDERS
            or (action.type in ACTION_PROVIDERS and _named(action))
            or any(walk(branch.actions) for branch in action.branches)
            for action in actions
        )

    return walk(workflow.actions)


def connection_issues(workflow: Workflow, known: Sequence[KnownConnection]) -> list[Issue]:
    """A violation at ``….config.connection`` for each step naming a connection the organization
    does not have, or one of a provider its action cannot use; and for each step naming none
    whose action would have to choose among several of the organization's connections."""
    issues: list[Issue] = []

    def walk(actions: Sequence[Action], path: str) -> None:
        for index, action in enumerate(actions):
            at = join_path(path, index)
            usable = ACTION_PROVIDERS.get(action.type)
            named = _named(action)
            if usable is not None and named:
                found = next((c for c in known if c.id == named), None) or next(
                    (c for c in known if c.name == named), None
                )
                if found is None:
                    wanted = " or ".join(sorted(usable))
                    issues.append(
                        Issue(
                            f"{at}.config.connection",
                            f"the organization has no {wanted} connection {named!r}",
                        )
                    )
                elif found.provider not in usable:
                    issues.append(
                        Issue(
                            f"{at}.config.connection",
                            f"{named!r} is a {found.provider} connection; {action.type} uses "
                            + " or ".join(sorted(usable)),
                        )
                    )
            elif action.type in DEFAULT_PROVIDERS:
                provider = DEFAULT_PROVIDERS[action.type]
                count = sum(1 for c in known if c.provider == provider)
                if count > 1:
                    issues.append(
                        Issue(
                            f"{at}.config.connection",
                            f"the organization has {count} {provider} connections: name the one to use",
                        )
                    )
            for b, branch in enumerate(action.branches):
                walk(branch.actions, join_path(f"{at}.branches[{b}]", "actions"))

    walk(workflow.actions, "actions")
    return issues
