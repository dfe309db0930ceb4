"""The actions the executor runs: one module per family, a registry by type.

- :mod:`.base`: the contract with the step engine (context, result, errors);
- :mod:`.registry`: :func:`build_registry` and :class:`ActionRegistry`;
- :mod:`.settings`: :class:`ActionSettings`, embedded in the executor's settings;
- :mod:`.email`, :mod:`.messaging`: send_email, send_whatsapp, send_sms, send_slack;
- :mod:`.integration`: webhook, call_api; :mod:`.http` and :mod:`.ssrf` under them;
- :mod:`.crm`, :mod:`.internal`: platform commands, variables, events.
"""

from beez.executor.actions.base import (
    Action,
    ActionContext,
    ActionError,
    ActionResult,
    ConnectionAccess,
    PermanentError,
    TransientError,
)
from beez.executor.actions.crm import command_verb
from beez.executor.actions.registry import ACTION_TYPES, ActionRegistry, build_registry
from beez.executor.actions.settings import ActionSettings, EmailTemplate

__all__ = [
    "ACTION_TYPES",
    "Action",
    "ActionContext",
    "ActionError",
    "ActionRegistry",
    "ActionResult",
    "ActionSettings",
    "ConnectionAccess",
    "EmailTemplate",
    "PermanentError",
    "TransientError",
    "build_registry",
    "command_verb",
]
