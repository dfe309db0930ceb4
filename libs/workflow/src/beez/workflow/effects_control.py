"""What the automation-control steps that read their whole context do (decision 0047).

Unlike :data:`beez.workflow.effects.EFFECTS`, which see the config and the contact, these see
the step's context (``contact``, ``event``, ``vars``): ``calculate_value`` reads any of it, and
``send_error_alert`` reports ``vars.error``, the failure a step's ``failed`` branch runs for
(:func:`failure_vars`). The executor's actions and the dry run both call :func:`step_effect`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from beez.workflow.calculate import calculate_value
from beez.workflow.effects import Effect, StepScope, effect_of, text

__all__ = ["CONTEXT_EFFECTS", "ERROR_VAR", "failure_vars", "send_error_alert", "step_effect"]

ERROR_VAR = "error"
"""``vars.error``: the failure the current ``failed`` branch runs for."""

DEFAULT_SEVERITY = "critical"


def failure_vars(step_id: str, step_type: str, error: str, category: str) -> dict[str, Any]:
    """The variables a failed branch starts with: ``vars.error = {step_id, type, error, category}``."""
    return {ERROR_VAR: {"step_id": step_id, "type": step_type, "error": error, "category": category}}


def send_error_alert(config: Mapping[str, Any], ctx: Mapping[str, Any], now: datetime) -> Effect:
    """``send_error_alert {message?, severity?}``: the ``alert_admins`` command, with the failure
    ``vars.error`` describes when there is one. Needs no contact."""
    vars_ = ctx.get("vars") or {}
    failure = vars_.get(ERROR_VAR) if isinstance(vars_, Mapping) else None
    failure = failure if isinstance(failure, Mapping) else {}
    step_id = str(failure.get("step_id") or "")
    step_type = str(failure.get("type") or "")
    error = str(failure.get("error") or "")
    message = text(config, "message", required=False)
    if not message:
        message = (
            f"Step {step_id or '?'} ({step_type}) failed: {error}"
            if failure
            else "An automation asked for the admins' attention"
        )
    values = {
        "message": message,
        "severity": str(config.get("severity") or DEFAULT_SEVERITY),
        "failed_step_id": step_id,
        "failed_step_type": step_type,
        "error": error,
        "error_category": str(failure.get("category") or ""),
    }
    return Effect("alert_admins", values, {"command": "alert_admins", **values}, needs_contact=False)


CONTEXT_EFFECTS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any], datetime], Effect]] = {
    "calculate_value": calculate_value,
    "send_error_alert": send_error_alert,
}
"""The types whose effect needs the step's whole context, by type."""


def step_effect(
    type_: str,
    config: Mapping[str, Any],
    ctx: Mapping[str, Any],
    now: datetime,
    scope: StepScope | None = None,
) -> Effect | None:
    """The effect of a step of ``type_`` (rendered config, context): a context effect, else the
    :func:`~beez.workflow.effects.effect_of` the contact (and ``scope``) give; None for types
    without one.

    Raises:
        StepError: the config cannot work, or the calculation fails.
    """
    compute = CONTEXT_EFFECTS.get(type_)
    if compute is not None:
        return compute(config, ctx, now)
    return effect_of(type_, config, ctx.get("contact") or {}, scope)
