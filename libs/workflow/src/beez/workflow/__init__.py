"""The workflow model shared by the automation, trigger and executor services.

Pure logic, no I/O. One module per job:

- :mod:`~beez.workflow.model`: JSON ⇄ ``Workflow`` proto, stable step ids, walking steps;
- :mod:`~beez.workflow.catalog`: the trigger/action/control types and operators the engine runs;
- :mod:`~beez.workflow.validate`: every problem of a workflow at once, with API paths;
- :mod:`~beez.workflow.conditions`: conditions compiled to CEL and evaluated;
- :mod:`~beez.workflow.context`: the ``contact``/``event``/``vars``/``execution`` context;
- :mod:`~beez.workflow.templates`: Jinja2 templates in a sandbox;
- :mod:`~beez.workflow.intervals`: delays, times of day, quiet hours;
- :mod:`~beez.workflow.navigation`: positions and how the executor moves between steps;
- :mod:`~beez.workflow.branches`, :mod:`~beez.workflow.loops`, :mod:`~beez.workflow.effects`
  (with :mod:`~beez.workflow.effects_crm` and :mod:`~beez.workflow.lead_score`),
  :mod:`~beez.workflow.recipients`: what a step does (the branch it takes, a loop's turn, its
  effect on the contact, where its message goes), shared by the executor and the dry run;
- :mod:`~beez.workflow.status`: execution and step statuses; :mod:`~beez.workflow.waits`: what an
  execution waits for, and the signals that end its waits;
- :mod:`~beez.workflow.retry`: retry schedules; :mod:`~beez.workflow.filters`: event filters;
- :mod:`~beez.workflow.schemas`: JSON-schema errors mapped to paths;
- :mod:`~beez.workflow.errors`: ``Issue`` and the exceptions carrying issues.
"""

from beez.workflow.errors import ConditionError, Issue, TemplateError, WorkflowError

__all__ = ["ConditionError", "Issue", "TemplateError", "WorkflowError"]
