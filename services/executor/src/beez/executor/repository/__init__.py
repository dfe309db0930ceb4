"""Every query of the executor, one module per aggregate. Functions take the caller's session and
never commit.

Row locks: an execution's changes all happen under ``SELECT ... FOR UPDATE`` of its row
(:func:`.executions.lock_execution`), so jobs, timers and RPCs touching one execution are
serialized, and its step rows, timers and dead letters are only written while that lock is held.
The timer loop locks timer rows only (``FOR UPDATE SKIP LOCKED``), never executions, so the two
lock orders cannot deadlock.
"""

from __future__ import annotations

from beez.executor.repository.dead_letters import add_dead_letter, dead_letters_of
from beez.executor.repository.executions import (
    existing_executions,
    find_executions,
    get_execution,
    insert_execution,
    lock_execution,
    lock_executions,
    lock_org_execution,
    lost_wakeup_candidates,
    orphan_candidates,
    write_new_executions,
)
from beez.executor.repository.limits import org_limits, set_org_limits
from beez.executor.repository.outbox import enqueue, enqueue_all
from beez.executor.repository.pending import pending_executions
from beez.executor.repository.provider_messages import provider_message, record_provider_message
from beez.executor.repository.steps import add_step, latest_attempt, step_by_key, steps_of, waiting_steps
from beez.executor.repository.timers import (
    DueTimer,
    ScheduledRow,
    add_timer,
    claim_due_timers,
    delete_timers,
    find_timers,
    get_timer,
)
from beez.executor.repository.workflows import load_workflow, save_workflows

__all__ = [
    "DueTimer",
    "ScheduledRow",
    "add_dead_letter",
    "add_step",
    "add_timer",
    "claim_due_timers",
    "dead_letters_of",
    "delete_timers",
    "enqueue",
    "enqueue_all",
    "existing_executions",
    "find_executions",
    "find_timers",
    "get_execution",
    "get_timer",
    "insert_execution",
    "latest_attempt",
    "load_workflow",
    "lock_execution",
    "lock_executions",
    "lock_org_execution",
    "lost_wakeup_candidates",
    "org_limits",
    "orphan_candidates",
    "pending_executions",
    "provider_message",
    "record_provider_message",
    "save_workflows",
    "set_org_limits",
    "step_by_key",
    "steps_of",
    "waiting_steps",
    "write_new_executions",
]
