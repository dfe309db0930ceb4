"""Checking that a workflow means something the engine can run, reporting every problem at once.

Paths use the API's JSON spelling (``actions[3].branches[1].actions[0].type``,
``settings.quietHours.start``), so the automation service hands the issues to the client as
field violations unchanged. Rules decided here where the format is silent:

- ``condition`` needs a ``yes`` or a ``no`` branch (either may be left out: an absent branch is
  an empty one, and the flow goes on after the step);
- ``wait_for_event`` and ``wait_until`` take optional branches (``event``/``timeout``,
  ``met``/``timeout``); their ``timeout`` config is required, so no wait is unbounded;
- ``switch`` needs at least one branch with conditions; its branch named ``default`` (at most
  one, since names are unique) takes no conditions and every other branch needs them;
- ``random_split`` needs at least two branches, each with a positive weight;
- ``loop`` needs a non-empty ``body``; ``times`` is 1..1000; ``over`` visits at most
  ``max_items`` (default 100, at most 1000); loops nest at most :data:`MAX_LOOP_NESTING` deep;
- branch names are unique within a step, non-empty, at most 64 characters;
- delays and timeouts are positive and at most a year (365 days, 52 weeks, 12 months);
- ids, when given, are unique in the whole workflow and at most 64 characters of letters,
  digits, ``_``, ``-``, ``.`` and ``:``;
- a workflow has at least one action, at most :data:`MAX_STEPS` steps in all, and branches
  nest at most :data:`MAX_DEPTH` deep;
- ``runOnce`` with ``reentry: always`` is a contradiction;
- every string of every ``config`` must be a valid template, except condition lists
  (``config.conditions``), which are compiled to CEL instead;
- one execution's worst case (nested loops multiply) stays within the steps and messages caps
  (:mod:`beez.workflow.amplification`), reported at the innermost loop that goes past one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from beez.api.workflow.v1.workflow_pb2 import (
    Action,
    Branch,
    Condition,
    Goal,
    Interval,
    Settings,
    Trigger,
    Workflow,
)
from beez.workflow import catalog
from beez.workflow.amplification import ExecutionLimits, amplification_issues
from beez.workflow.calculate import expression_issues
from beez.workflow.conditions import condition_issues
from beez.workflow.errors import Issue, join_path
from beez.workflow.intervals import UNITS, interval_problem, is_valid_timezone, parse_time_of_day
from beez.workflow.lead_score import lead_score_issues
from beez.workflow.model import conditions_from_json, struct_to_dict
from beez.workflow.schedules import DEFAULT_MIN_INTERVAL_S, schedule_issues
from beez.workflow.schemas import schema_issues
from beez.workflow.templates import template_issues

__all__ = [
    "MAX_BRANCHES",
    "MAX_DEPTH",
    "MAX_LOOP_NESTING",
    "MAX_STEPS",
    "PRIORITIES",
    "REENTRY",
    "action_issues",
    "trigger_issues",
    "validate_workflow",
]

MAX_STEPS = 500
"""The most steps (actions at every depth) a workflow may have."""

MAX_DEPTH = 10
"""How deeply branches may nest."""

MAX_LOOP_NESTING = 3
"""How many loops may enclose one another."""

MAX_BRANCHES = 50
"""The most branches one step may have."""

REENTRY: tuple[str, ...] = ("never", "always", "after_exit")
PRIORITIES: tuple[str, ...] = ("critical", "high", "normal", "low")

UNTEMPLATED = frozenset({"conditions", "expression"})
"""Config fields that are not templates: condition lists and CEL expressions (compiled instead)."""

_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_EVENT = re.compile(catalog.EVENT_NAME_PATTERN)
_LONGER_THAN_A_YEAR = "must not be longer than 1 year"


class _Validator:
    """Walks a workflow once, collecting issues in document order."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.ids: dict[str, str] = {}
        self.steps = 0
        self.timezone = ""
        self.min_interval_s = DEFAULT_MIN_INTERVAL_S

    def add(self, path: str, description: str) -> None:
        self.issues.append(Issue(path, description))

    def extend(self, issues: Sequence[Issue]) -> None:
        self.issues.extend(issues)

    # --- top level -------------------------------------------------------------------------

    def workflow(self, workflow: Workflow) -> None:
        if not workflow.name.strip():
            self.add("name", "is required")
        elif len(workflow.name) > 200:
            self.add("name", "must be at most 200 characters")
        self.timezone = workflow.settings.timezone
        self.trigger(workflow.trigger if workflow.HasField("trigger") else None)
        self.extend(condition_issues(workflow.conditions, "conditions"))
        if not len(workflow.actions):
            self.add("actions", "at least one action is required")
        self.actions(workflow.actions, "actions", depth=0, loops=0)
        for index, action in enumerate(workflow.actions):
            if action.type == "retry_failed_action":
                self.add(
                    f"actions[{index}].type",
                    "retry_failed_action only runs directly in a step's failed branch",
                )
        if self.steps > MAX_STEPS:
            self.add("actions", f"has {self.steps} steps; at most {MAX_STEPS} are allowed")
        if workflow.HasField("goal"):
            self.goal(workflow.goal)
        if workflow.HasField("settings"):
            self.settings(workflow.settings)

    def trigger(self, trigger: Trigger | None) -> None:
        if trigger is None or not trigger.type:
            self.add("trigger.type", "is required")
            return
        entry = catalog.trigger_type(trigger.type)
        if entry is None:
            self.add("trigger.type", f"unknown trigger type {trigger.type!r}")
        elif entry.requires_event and not trigger.event:
            self.add("trigger.event", f"is required for {trigger.type}")
        elif entry.category == "condition" and trigger.event:
            self.add("trigger.event", f"{trigger.type} is a condition trigger and listens to no event")
        if trigger.event:
            self.event_name(trigger.event, "trigger.event")
        filters_schema = entry.filters_schema if entry else catalog.FILTERS_SCHEMA
        self.extend(schema_issues(filters_schema, struct_to_dict(trigger.filters), "trigger.filters"))
        if entry is not None:
            config = struct_to_dict(trigger.config)
            issues = schema_issues(entry.config_schema, config, "trigger.config")
            self.extend(issues)
            if not issues and entry.check is not None:
                for path, problem in entry.check(config):
                    self.add(join_path("trigger.config", path), problem)
            if not issues:
                for path, text in schedule_issues(
                    trigger.type, config, default_timezone=self.timezone, min_interval_s=self.min_interval_s
                ):
                    self.add(f"trigger.config.{path}", text)
                audience = config.get("audience")
                if isinstance(audience, Mapping) and isinstance(audience.get("conditions"), list):
                    where = "trigger.config.audience.conditions"
                    parsed, problems = conditions_from_json(audience["conditions"], where)
                    self.extend(problems)
                    self.extend(condition_issues(parsed, where))

    def event_name(self, name: str, path: str) -> None:
        if not _EVENT.match(name):
            self.add(path, "must be an event type such as link.clicked")

    def goal(self, goal: Goal) -> None:
        if not goal.event and not len(goal.conditions):
            self.add("goal", "needs an event or conditions")
        if goal.event:
            self.event_name(goal.event, "goal.event")
        elif goal.HasField("filters") and len(goal.filters.fields):
            self.add("goal.filters", "apply only with goal.event")
        self.extend(schema_issues(catalog.FILTERS_SCHEMA, struct_to_dict(goal.filters), "goal.filters"))
        self.extend(condition_issues(goal.conditions, "goal.conditions"))

    def settings(self, settings: Settings) -> None:
        if settings.reentry and settings.reentry not in REENTRY:
            self.add("settings.reentry", f"must be one of {', '.join(REENTRY)}")
        if settings.run_once and settings.reentry == "always":
            self.add("settings.reentry", "always contradicts runOnce")
        if settings.priority and settings.priority not in PRIORITIES:
            self.add("settings.priority", f"must be one of {', '.join(PRIORITIES)}")
        if settings.timezone and not is_valid_timezone(settings.timezone):
            self.add("settings.timezone", f"unknown time zone {settings.timezone!r}")
        if settings.max_executions < 0:
            self.add("settings.maxExecutions", "must not be negative")
        if settings.HasField("max_concurrent_per_contact") and settings.max_concurrent_per_contact < 1:
            self.add("settings.maxConcurrentPerContact", "must be at least 1")
        if settings.HasField("quiet_hours"):
            times = []
            for key in ("start", "end"):
                text = getattr(settings.quiet_hours, key)
                try:
                    times.append(parse_time_of_day(text))
                except ValueError:
                    self.add(f"settings.quietHours.{key}", "must be HH:MM (24-hour)")
            if len(times) == 2 and times[0] == times[1]:
                self.add("settings.quietHours", "start and end must differ")

    # --- steps -----------------------------------------------------------------------------

    def actions(self, actions: Sequence[Action], path: str, depth: int, loops: int) -> None:
        for index, action in enumerate(actions):
            self.steps += 1
            self.action(action, join_path(path, index), depth, loops)

    def action(self, action: Action, path: str, depth: int, loops: int) -> None:
        if action.id:
            self.step_id(action.id, join_path(path, "id"))
        entry = catalog.action_type(action.type) if action.type else None
        if not action.type:
            self.add(join_path(path, "type"), "is required")
        elif entry is None:
            self.add(join_path(path, "type"), f"unknown action type {action.type!r}")
        if action.HasField("delay"):
            self.interval(action.delay, join_path(path, "delay"))
        config_path = join_path(path, "config")
        config = struct_to_dict(action.config)
        if entry is not None:
            self.extend(schema_issues(entry.config_schema, config, config_path))
            templated = {key: value for key, value in config.items() if key not in UNTEMPLATED}
            self.extend(template_issues(templated, config_path))
            self.control_config(action.type, config, config_path)
        if action.type == "calculate_value" and isinstance(config.get("expression"), str):
            self.extend(expression_issues(config["expression"], join_path(config_path, "expression")))
        if action.type == "loop":
            loops += 1
            if loops > MAX_LOOP_NESTING:
                self.add(path, f"loops nest more than {MAX_LOOP_NESTING} deep")
        self.branches(action, entry, path)
        for index, branch in enumerate(action.branches):
            branch_path = f"{path}.branches[{index}]"
            if depth + 1 > MAX_DEPTH:
                self.add(branch_path, f"branches nest more than {MAX_DEPTH} deep")
                continue
            recovering = entry is not None and entry.recoverable and branch.name == catalog.FAILED_BRANCH
            for inner, step in enumerate(branch.actions):
                if step.type == "retry_failed_action" and not recovering:
                    self.add(
                        join_path(join_path(branch_path, "actions"), inner) + ".type",
                        "retry_failed_action only runs directly in a step's failed branch",
                    )
            self.actions(branch.actions, join_path(branch_path, "actions"), depth + 1, loops)

    def step_id(self, step_id: str, path: str) -> None:
        if not _ID.match(step_id):
            self.add(path, "must be 1-64 letters, digits, '_', '-', '.' or ':'")
        first = self.ids.get(step_id)
        if first is not None:
            self.add(path, f"duplicate id {step_id!r} (also at {first})")
        else:
            self.ids[step_id] = path

    def interval(self, interval: Interval, path: str) -> None:
        if interval.unit not in UNITS:
            self.add(join_path(path, "unit"), f"must be one of {', '.join(UNITS)}")
            return
        problem = interval_problem(interval)
        if problem is not None:
            self.add(join_path(path, "value"), problem)

    def config_interval(self, value: Any, path: str) -> None:
        """The one-year bound of an interval in a config (its shape is the schema's business)."""
        if (
            isinstance(value, Mapping)
            and isinstance(value.get("value"), int)
            and value.get("unit") in UNITS
            and interval_problem(value) == _LONGER_THAN_A_YEAR
        ):
            self.add(join_path(path, "value"), _LONGER_THAN_A_YEAR)

    def control_config(self, type_: str, config: Mapping[str, Any], path: str) -> None:
        if type_ == "wait" and "until" not in config:
            self.config_interval(config, path)
        if type_ in ("wait_for_event", "wait_until"):
            self.config_interval(config.get("timeout"), join_path(path, "timeout"))
        if type_ in ("condition", "wait_until") and isinstance(config.get("conditions"), list):
            at = join_path(path, "conditions")
            conditions, issues = conditions_from_json(config["conditions"], at)
            self.extend(issues or condition_issues(conditions, at))
        if type_ == "calculate_lead_score":
            self.extend(lead_score_issues(config, path))

    # --- branches --------------------------------------------------------------------------

    def branches(self, action: Action, entry: catalog.ActionType | None, path: str) -> None:
        branches: Sequence[Branch] = action.branches
        at = join_path(path, "branches")
        if entry is None:
            return
        if not entry.takes_branches:
            for index, branch in enumerate(branches):
                if not entry.recoverable:
                    self.add(at, f"{entry.type} takes no branches")
                    return
                if branch.name != catalog.FAILED_BRANCH or index > 0:
                    self.add(
                        join_path(f"{at}[{index}]", "name"),
                        f"{entry.type} takes only one branch, named {catalog.FAILED_BRANCH}",
                    )
                elif branch.weight or len(branch.conditions):
                    self.add(f"{at}[{index}]", "a failed branch takes no weight or conditions")
            return
        if len(branches) > MAX_BRANCHES:
            self.add(at, f"at most {MAX_BRANCHES} branches are allowed")
        names: set[str] = set()
        for index, branch in enumerate(branches):
            branch_path = f"{at}[{index}]"
            name_path = join_path(branch_path, "name")
            if not branch.name:
                self.add(name_path, "is required")
            elif len(branch.name) > 64:
                self.add(name_path, "must be at most 64 characters")
            elif branch.name in names:
                self.add(name_path, f"duplicate branch {branch.name!r}")
            elif entry.branches and branch.name not in entry.branches:
                self.add(name_path, f"must be one of {', '.join(entry.branches)}")
            names.add(branch.name)
            if branch.weight and entry.type != "random_split":
                self.add(join_path(branch_path, "weight"), "only random_split branches have a weight")
            if len(branch.conditions) and entry.type != "switch":
                self.add(join_path(branch_path, "conditions"), "only switch branches have conditions")
        if entry.type == "condition" and not names & {"yes", "no"}:
            self.add(at, "needs a yes or a no branch")
        elif entry.type == "loop":
            body = next((branch for branch in branches if branch.name == "body"), None)
            if body is None or not len(body.actions):
                self.add(at, "needs a body branch with at least one action")
        elif entry.type == "switch":
            self.switch(branches, at)
        elif entry.type == "random_split":
            if len(branches) < 2:
                self.add(at, "needs at least two branches")
            for index, branch in enumerate(branches):
                if branch.weight <= 0:
                    self.add(f"{at}[{index}].weight", "must be positive")

    def switch(self, branches: Sequence[Branch], at: str) -> None:
        conditioned = 0
        for index, branch in enumerate(branches):
            conditions: Sequence[Condition] = branch.conditions
            conditions_path = f"{at}[{index}].conditions"
            if branch.name == "default":
                if len(conditions):
                    self.add(conditions_path, "the default branch takes no conditions")
                continue
            if not len(conditions):
                self.add(conditions_path, "are required (or name the branch default)")
                continue
            conditioned += 1
            self.extend(condition_issues(conditions, conditions_path))
        if not conditioned:
            self.add(at, "needs at least one branch with conditions")


def validate_workflow(
    workflow: Workflow,
    *,
    limits: ExecutionLimits | None = None,
    min_schedule_interval_s: float = DEFAULT_MIN_INTERVAL_S,
) -> list[Issue]:
    """Every problem of a parsed workflow, in document order; empty when it can be activated.

    ``limits``: the caps one execution runs under (the defaults when None); a workflow whose
    worst case goes past them is refused. Parsing problems (unknown fields, wrong JSON types)
    are reported earlier, by :func:`beez.workflow.model.workflow_from_json`. A time trigger
    firing more often than ``min_schedule_interval_s`` is refused.
    """
    validator = _Validator()
    validator.min_interval_s = min_schedule_interval_s
    validator.workflow(workflow)
    validator.extend(amplification_issues(workflow, limits or ExecutionLimits()))
    return validator.issues


def trigger_issues(trigger: Trigger | None) -> list[Issue]:
    """Every problem of a trigger on its own (paths under ``trigger``), as workflow validation
    reports them: its type, its event, its filters and its config against the type's schemas."""
    validator = _Validator()
    validator.trigger(trigger)
    return validator.issues


def action_issues(action: Action) -> list[Issue]:
    """Every problem of one step on its own (paths under ``action``), as workflow validation
    reports them: its type, its config against the type's schema, its templates, its branches."""
    validator = _Validator()
    validator.action(action, "action", 0, 0)
    return validator.issues
