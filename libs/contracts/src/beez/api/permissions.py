"""The role each RPC needs, next to the contracts, so a new RPC cannot forget to declare one.

Roles are per organization and nest: ``admin`` ⊇ ``editor`` ⊇ ``viewer``. A viewer reads; an
editor also creates, changes and runs automations and publishes events; an admin also re-drives
dead letters, erases contacts and manages connections. The gateway checks this table before it
calls a backend, and every service checks it again (``beez.kit.grpc.permissions``) for callers
that reach it directly. ``tests/gateway/test_permission_table.py`` fails when a service in the
contracts has an RPC that is missing here, or when an entry names an RPC that does not exist.

Health checks and reflection are open and are not listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType


class Role(StrEnum):
    """A caller's role within its organization; each includes the ones ranked below it."""

    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.ADMIN: 3}

ALL_ROLES: frozenset[Role] = frozenset(Role)


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    """The known roles among ``values`` (case-insensitive); unknown names are dropped, not errors,
    so an identity provider may carry roles of other applications in the same claim."""
    known = {role.value: role for role in Role}
    return frozenset(known[name] for v in values if (name := v.strip().lower()) in known)


def grants(roles: Iterable[Role], required: Role) -> bool:
    """Whether a caller holding ``roles`` may call an RPC that needs ``required``."""
    return any(role.rank >= required.rank for role in roles)


def _service(full_name: str, methods: Mapping[str, Role]) -> dict[str, Role]:
    return {f"/{full_name}/{method}": role for method, role in methods.items()}


PERMISSIONS: Mapping[str, Role] = MappingProxyType(
    {
        **_service(
            "beez.api.automation.v1.AutomationService",
            {
                "CreateAutomation": Role.EDITOR,
                "GetAutomation": Role.VIEWER,
                "ListAutomations": Role.VIEWER,
                "UpdateAutomation": Role.EDITOR,
                "DeleteAutomation": Role.EDITOR,
                "ToggleAutomation": Role.EDITOR,
                "CloneAutomation": Role.EDITOR,
                "TestAutomation": Role.EDITOR,
                # Checks a workflow without storing or running anything.
                "ValidateAutomation": Role.VIEWER,
                # Re-announces every automation of the organization (rebuilds the trigger's index).
                "ResyncAutomations": Role.ADMIN,
            },
        ),
        **_service(
            "beez.api.automation.v1.TemplateService",
            {
                "ListTemplates": Role.VIEWER,
                "GetTemplate": Role.VIEWER,
                "ListFeaturedTemplates": Role.VIEWER,
                "ListTemplateCategories": Role.VIEWER,
                "SearchTemplates": Role.VIEWER,
                # A dry run on the caller's sample: stores and sends nothing.
                "PreviewTemplate": Role.VIEWER,
                "ActivateTemplate": Role.EDITOR,
                "CustomizeTemplate": Role.EDITOR,
                "CreateFromTemplate": Role.EDITOR,
                "RateTemplate": Role.EDITOR,
                "ListSimilarTemplates": Role.VIEWER,
                "ListTemplateRecommendations": Role.VIEWER,
                "SaveAsTemplate": Role.EDITOR,
            },
        ),
        **_service(
            "beez.api.automation.v1.CatalogService",
            {
                "ListTriggerTypes": Role.VIEWER,
                "GetTriggerTypeSchema": Role.VIEWER,
                "ListActionTypes": Role.VIEWER,
                "GetActionTypeSchema": Role.VIEWER,
                "ListConditionOperators": Role.VIEWER,
                # The builder's tools (frame 4): they store and run nothing.
                "ListTriggerCategories": Role.VIEWER,
                "ValidateTrigger": Role.VIEWER,
                "TestTrigger": Role.VIEWER,
                "EvaluateConditions": Role.VIEWER,
            },
        ),
        **_service(
            "beez.api.executor.v1.ExecutionService",
            {
                "ListExecutions": Role.VIEWER,
                "GetExecution": Role.VIEWER,
                "SearchExecutions": Role.VIEWER,
                "CancelExecution": Role.EDITOR,
                "RetryExecution": Role.EDITOR,
                "ListScheduled": Role.VIEWER,
                "CancelScheduled": Role.EDITOR,
                "GetContactHistory": Role.VIEWER,
                # Connections: the secrets that sign an organization's outgoing webhooks.
                "RotateWebhookSigningSecret": Role.ADMIN,
                "ListWebhookSigningKeys": Role.ADMIN,
                # The caps on one execution's steps and messages (decision 0023).
                "GetOrganizationLimits": Role.VIEWER,
                "SetOrganizationLimits": Role.ADMIN,
            },
        ),
        **_service(
            "beez.api.executor.v1.ConnectionService",
            {
                # Credentials per organization (decision 0040): admins manage them, viewers see
                # that they exist (never their values).
                "CreateConnection": Role.ADMIN,
                "ListConnections": Role.VIEWER,
                "GetConnection": Role.VIEWER,
                "TestConnection": Role.ADMIN,
                "RotateConnection": Role.ADMIN,
                "SetConnectionRateLimit": Role.ADMIN,
                "DeleteConnection": Role.ADMIN,
                # The gateway's callback routes for an organization's own provider accounts: a
                # yes or no about a signature, never the secret (decision 0041).
                "VerifyCallbackSignature": Role.EDITOR,
            },
        ),
        **_service(
            "beez.api.executor.v1.DeadLetterService",
            {
                "ListDeadLetters": Role.VIEWER,
                "GetDeadLetter": Role.VIEWER,
                # re-driving and purging act on other services' work (decision 0029)
                "RedriveDeadLetter": Role.ADMIN,
                "RedriveDeadLetters": Role.ADMIN,
                "PurgeDeadLetters": Role.ADMIN,
            },
        ),
        **_service(
            "beez.api.executor.v1.ActionService",
            {
                # The builder's action tools (frame 4): they store and send nothing.
                "ListActionCategories": Role.VIEWER,
                "ValidateAction": Role.VIEWER,
                # Renders templates with the caller's sample and shows requests, credentials redacted.
                "TestAction": Role.EDITOR,
                "GetProviderMessage": Role.VIEWER,
            },
        ),
        **_service(
            "beez.api.trigger.v1.EventService",
            {
                "PublishEvent": Role.EDITOR,
                "PublishEvents": Role.EDITOR,
                "ListEvents": Role.VIEWER,
                # upcoming fires of time-based triggers (decision 0038)
                "ListScheduledFires": Role.VIEWER,
                "CancelScheduledFire": Role.EDITOR,
            },
        ),
        **_service(
            "beez.api.trigger.v1.HookService",
            {
                # Inbound webhooks are connections (#11): an admin manages them, a viewer sees them.
                "CreateHook": Role.ADMIN,
                "ListHooks": Role.VIEWER,
                "GetHook": Role.VIEWER,
                "RotateHook": Role.ADMIN,
                "DeleteHook": Role.ADMIN,
                # Called by the gateway for POST /hooks/{token}: the token is the credential, and
                # a delivery publishes an event, which is an editor's right (decision 0036).
                "DeliverHook": Role.EDITOR,
            },
        ),
        **_service(
            "beez.api.trigger.v1.ContactService",
            {
                "ImportContacts": Role.EDITOR,
                "GetContact": Role.VIEWER,
                "ListFields": Role.VIEWER,
            },
        ),
        **_service(
            "beez.api.analytics.v1.AnalyticsService",
            {
                "GetAutomationStats": Role.VIEWER,
            },
        ),
    }
)
"""Every RPC of the contracts, by full method name (``/package.Service/Method``), to its role."""
