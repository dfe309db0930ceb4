"""The automation-control types added for the seed's "Automation Control" group (decision 0047):
cancelling the contact's other pending work, calculating a value, alerting the organization's
admins, and re-running the step that failed."""

from __future__ import annotations

from beez.workflow.catalog.entries import ActionType
from beez.workflow.catalog.pieces import IDENTIFIER, INTERVAL, TEXT, config_schema, schema_rules

CANCEL_SCOPES: tuple[str, ...] = ("this_automation", "automations", "all_automations")
"""Whose pending executions ``cancel_pending_actions`` cancels: this automation's other ones for
the contact, those of the automations ``automation_ids`` lists, or those of every automation."""

MAX_CANCEL_AUTOMATIONS = 50
"""The most automations one ``cancel_pending_actions`` step may name."""

MAX_RETRY_TIMES = 10
"""The most times ``retry_failed_action`` re-runs a failed step."""

MAX_DECIMALS = 10

ALERT_SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")

CONTROL_ACTIONS: tuple[ActionType, ...] = (
    ActionType(
        "cancel_pending_actions",
        "Cancel pending actions",
        "Cancels the contact's other executions that are waiting or queued (their delays, waits "
        "and retries): of this automation, of the automations listed, or of every automation. "
        "The execution running this step goes on.",
        "control",
        config_schema(
            "cancel_pending_actions",
            {
                "scope": {"enum": list(CANCEL_SCOPES), "default": "this_automation"},
                "automation_ids": {
                    "type": "array",
                    "items": TEXT,
                    "minItems": 1,
                    "maxItems": MAX_CANCEL_AUTOMATIONS,
                    "uniqueItems": True,
                    "description": "The automations whose executions to cancel (scope automations).",
                },
                "reason": {"type": "string", "description": "Shown as the cancelled executions' end reason."},
            },
            retry=False,
            **schema_rules(
                {
                    "if": {"properties": {"scope": {"const": "automations"}}, "required": ["scope"]},
                    "then": {
                        "required": ["automation_ids"],
                        "errorMessage": "required for scope automations",
                    },
                    "else": {
                        "not": {"required": ["automation_ids"]},
                        "errorMessage": "automation_ids only goes with scope automations",
                    },
                }
            ),
        ),
        engine=True,
    ),
    ActionType(
        "calculate_value",
        "Calculate value",
        "Evaluates an arithmetic CEL expression over contact, event and vars (e.g. "
        "`contact.score * 2 + vars.bonus`) within a cost budget, and stores the number in "
        "vars.<name>. A result that is not a finite number fails the step.",
        "control",
        config_schema(
            "calculate_value",
            {
                "expression": {
                    **TEXT,
                    "description": "A CEL expression giving a number; not a template.",
                },
                "name": {**IDENTIFIER, "description": "The variable the result goes into."},
                "decimals": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": MAX_DECIMALS,
                    "description": "Rounds the result (half to even) to this many decimals.",
                },
            },
            ("expression", "name"),
        ),
        local=True,
    ),
    ActionType(
        "send_error_alert",
        "Send error alert to admin",
        "Alerts the organization's admins (the platform's alert_admins command: in-app, and by "
        "email as each admin chose) with the execution, the step that failed and its error; in a "
        "step's failed branch it reports that failure, elsewhere only the message.",
        "control",
        config_schema(
            "send_error_alert",
            {
                "message": {**TEXT, "description": "Default: the failed step and its error."},
                "severity": {"enum": list(ALERT_SEVERITIES), "default": "critical"},
            },
        ),
        local=True,
        message=False,
    ),
    ActionType(
        "retry_failed_action",
        "Retry failed action",
        "In a step's failed branch: runs that step again (its retry policy afresh), at most "
        "`times` times for the execution, `after` a wait; once they are spent the branch goes on.",
        "control",
        config_schema(
            "retry_failed_action",
            {
                "times": {"type": "integer", "minimum": 1, "maximum": MAX_RETRY_TIMES, "default": 1},
                "after": {**INTERVAL, "description": "How long to wait before running the step again."},
            },
            retry=False,
        ),
        engine=True,
    ),
)
