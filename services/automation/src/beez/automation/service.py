"""The automation service's logic: no gRPC, no SQL.

Every change (create, update, toggle, clone, delete) happens in one unit of work with the
``AutomationChanged`` it announces: the row's ``revision`` grows by one and the message, carrying
that revision, goes to the outbox on ``automations.<org>.changed`` with ``Nats-Msg-Id``
``automation:<id>:rev:<revision>``, carrying the version's workflow and its digest
(:mod:`beez.workflow.digest`), which the executor checks every START against (decision 0018).
Nothing is written when the input is invalid.

Paths in field violations: problems of the workflow are reported with the path inside the
workflow, as ``beez.workflow.validate`` computes it and ValidateAutomation returns it
(``actions[2].config.subject``), not prefixed with the request field (``automation.``): the
workflow is the whole REST body of Create, Update and Validate, so the path points into what the
client sent. Other request fields are named as in the request (``id``, ``page_token``,
``wait_outcomes[step]``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from beez.api.messages.v1.events_pb2 import Event
from beez.api.messages.v1.lifecycle_pb2 import AutomationChanged, ChangeKind
from beez.api.workflow.v1.workflow_pb2 import Workflow
from beez.automation.connections import ConnectionsSource
from beez.automation.domain import dryrun
from beez.automation.domain.rules import OrganizationRules
from beez.automation.limits import LimitsSource
from beez.automation.models import Automation, AutomationVersion
from beez.automation.repository.automations import AutomationRepository, ListFilter
from beez.automation.stats import Stats, StatsSource
from beez.kit.bus.limits import DEFAULT_MAX_PAYLOAD, workflow_limit
from beez.kit.bus.topology import Topology
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.grpc.errors import FieldViolation, InvalidArgument, NotFound, require
from beez.kit.grpc.identity import Identity
from beez.kit.ids import new_id
from beez.kit.paging import cut_page, decode_key, read_page, scope_of
from beez.workflow import catalog
from beez.workflow.connections import connection_issues, uses_connections
from beez.workflow.digest import workflow_digest
from beez.workflow.errors import Issue
from beez.workflow.model import assign_ids, workflow_from_json, workflow_to_json

__all__ = [
    "MAX_NAME",
    "AutomationService",
    "AutomationView",
    "CatalogService",
    "ListQuery",
    "Page",
]

MAX_NAME = 200
"""The longest workflow name validation accepts; a clone's default name is cut to fit."""

COPY_SUFFIX = " (copy)"


@dataclass(frozen=True)
class AutomationView:
    """An automation as the API shows it: one version's workflow and the automation's state."""

    id: str
    workflow: Workflow
    active: bool
    version: int
    create_time: datetime
    update_time: datetime
    created_by: str
    stats: Stats | None = None


@dataclass(frozen=True)
class ListQuery:
    """ListAutomations' filters and page."""

    active: bool | None = None
    trigger_type: str = ""
    name: str = ""
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True)
class Page:
    automations: list[AutomationView]
    next_page_token: str


def _invalid(message: str, issues: Iterable[Issue]) -> InvalidArgument:
    return InvalidArgument(message, [FieldViolation(issue.field, issue.description) for issue in issues])


def _not_found(automation_id: str) -> NotFound:
    return NotFound(f"automation {automation_id} not found")


def _checked(workflow: Workflow, issues: list[Issue], max_bytes: int | None = None) -> Workflow:
    """The workflow with every step id assigned, or INVALID_ARGUMENT listing every issue.

    ``issues``: the workflow's (:meth:`OrganizationRules.issues`); ``max_bytes``: the largest
    serialized workflow (ids assigned) accepted (decision 0026).
    """
    if issues:
        count = f"{len(issues)} problem" + ("s" if len(issues) > 1 else "")
        raise _invalid(f"the workflow is invalid ({count})", issues)
    checked = assign_ids(workflow)
    if max_bytes is not None and (size := checked.ByteSize()) > max_bytes:
        raise InvalidArgument(
            f"the workflow is {size} bytes, over the limit of {max_bytes} bytes",
            [FieldViolation("workflow", f"is larger than {max_bytes} bytes")],
        )
    return checked


def _view(row: Automation, workflow: Workflow, version: int | None = None) -> AutomationView:
    return AutomationView(
        id=row.id,
        workflow=workflow,
        active=row.active,
        version=version or row.version,
        create_time=row.create_time,
        update_time=row.update_time,
        created_by=row.created_by or "",
    )


class AutomationService:
    """Automations of every organization, each call scoped to the caller's."""

    def __init__(
        self,
        db: Database,
        topology: Topology,
        clock: Clock,
        stats: StatsSource | None = None,
        *,
        max_workflow_bytes: Callable[[], int] = lambda: workflow_limit(DEFAULT_MAX_PAYLOAD),
        rules: OrganizationRules | None = None,
        limits: LimitsSource | None = None,
        connections: ConnectionsSource | None = None,
    ) -> None:
        """``max_workflow_bytes``: read at each create, update or import (it follows the server).
        ``rules``: the caps and verified senders workflows are checked against (decision 0023);
        ``limits``: where an organization's current caps are asked (the executor);
        ``connections``: where its connections are (the executor, decision 0040)."""
        self._max_workflow_bytes = max_workflow_bytes
        self._connections = connections
        self._rules = rules or OrganizationRules()
        self._limits = limits
        self._db = db
        self._topology = topology
        self._clock = clock
        self._stats = stats

    # --- reads ---------------------------------------------------------------------------

    async def get(self, identity: Identity, automation_id: str, version: int = 0) -> AutomationView:
        """One version (0: the current one) with the automation's stats when analytics answers."""
        require(id=automation_id)
        if version < 0:
            raise InvalidArgument("version must not be negative", [FieldViolation("version", "must be >= 0")])
        async with self._db.transaction() as session:
            repo = AutomationRepository(session)
            row = await repo.get(identity.org_id, automation_id)
            if row is None:
                raise _not_found(automation_id)
            wanted = version or row.version
            data = await repo.workflow(identity.org_id, automation_id, wanted)
        if data is None:
            raise NotFound(f"automation {automation_id} has no version {wanted}")
        view = _view(row, workflow_from_json(data), wanted)
        if self._stats is not None:  # outside the transaction: no connection held over a call
            view = replace(view, stats=await self._stats.automation_stats(identity, automation_id))
        return view

    async def list_automations(self, identity: Identity, query: ListQuery) -> Page:
        """A page of the organization's automations, newest first."""
        where = ListFilter(query.active, query.trigger_type, query.name)
        scope = scope_of(where.active, where.trigger_type, where.name)
        page = read_page(
            query.page_size,
            query.page_token,
            decode=lambda token: decode_key(token, scope),
        )
        async with self._db.transaction() as session:
            rows = await AutomationRepository(session).list_page(
                identity.org_id, where, before_id=page.after, limit=page.size + 1
            )
        served, token = cut_page(rows, page.size, lambda row: (row[0].id,), scope)
        return Page([_view(row, workflow_from_json(data)) for row, data in served], token)

    # --- changes -------------------------------------------------------------------------

    async def create(self, identity: Identity, workflow: Workflow, active: bool) -> AutomationView:
        """A new automation at version 1 (revision 1)."""
        workflow = _checked(workflow, await self.validate(identity, workflow), self._max_workflow_bytes())
        now = self._clock.now()
        row = Automation(
            id=new_id(),
            org_id=identity.org_id,
            active=active,
            version=1,
            revision=1,
            created_by=identity.user_id,
            create_time=now,
            update_time=now,
        )
        self._describe(row, workflow)
        async with self._db.transaction() as session:
            repo = AutomationRepository(session)
            await repo.add(row, self._version(row, workflow, identity, now))
            await self._announce(repo, row, workflow)
        return _view(row, workflow)

    async def update(self, identity: Identity, automation_id: str, workflow: Workflow) -> AutomationView:
        """A new immutable version, which becomes the current one; the others stay as they were."""
        require(id=automation_id)
        workflow = _checked(workflow, await self.validate(identity, workflow), self._max_workflow_bytes())
        now = self._clock.now()
        async with self._db.transaction() as session:
            repo = AutomationRepository(session)
            row = await self._locked(repo, identity, automation_id)
            row.version += 1
            row.revision += 1
            row.update_time = now
            self._describe(row, workflow)
            await repo.add_version(self._version(row, workflow, identity, now))
            await self._announce(repo, row, workflow)
        return _view(row, workflow)

    async def toggle(self, identity: Identity, automation_id: str, active: bool | None) -> AutomationView:
        """Sets ``active`` (flips it when None); setting the state it already has changes nothing."""
        require(id=automation_id)
        async with self._db.transaction() as session:
            repo = AutomationRepository(session)
            row = await self._locked(repo, identity, automation_id)
            workflow = await self._current(repo, row)
            target = (not row.active) if active is None else active
            if target != row.active:
                row.active = target
                row.revision += 1
                row.update_time = self._clock.now()
                await self._announce(repo, row, workflow)
        return _view(row, workflow)

    async def clone(self, identity: Identity, automation_id: str, name: str) -> AutomationView:
        """A new inactive automation at version 1 with the current workflow, renamed."""
        require(id=automation_id)
        async with self._db.transaction() as session:
            repo = AutomationRepository(session)
            source = await repo.get(identity.org_id, automation_id)
            if source is None:
                raise _not_found(automation_id)
            workflow = await self._current(repo, source)
            if not name:
                name = workflow.name[: MAX_NAME - len(COPY_SUFFIX)] + COPY_SUFFIX
            workflow.name = name
            workflow = _checked(  # names the problem "name", the request field too
                workflow, await self.validate(identity, workflow), self._max_workflow_bytes()
            )
            now = self._clock.now()
            row = Automation(
                id=new_id(),
                org_id=identity.org_id,
                active=False,
                version=1,
                revision=1,
                created_by=identity.user_id,
                create_time=now,
                update_time=now,
            )
            self._describe(row, workflow)
            await repo.add(row, self._version(row, workflow, identity, now))
            await self._announce(repo, row, workflow)
        return _view(row, workflow)

    async def delete(self, identity: Identity, automation_id: str) -> None:
        """Marks the automation deleted (NOT_FOUND from now on) and announces it, inactive."""
        require(id=automation_id)
        async with self._db.transaction() as session:
            repo = AutomationRepository(session)
            row = await self._locked(repo, identity, automation_id)
            now = self._clock.now()
            row.deleted_at = now
            row.update_time = now
            row.active = False
            row.revision += 1
            await self._announce(repo, row, None)

    async def reannounce(self, page: int = 500) -> int:
        """Announces every live automation's current version again, at its current revision; how many.

        Run once at start (``reannounce_on_start``) so that consumers which keep their own copy
        learn automations whose last announcement has left the AUTOMATIONS stream (30 days): the
        executor checks every START against the announced workflow digests (decision 0018). A
        repeat changes nothing anywhere: the message id is the original one (the stream drops it
        within its duplicate window), the trigger ignores a revision it has, and the executor
        records a digest once.
        """
        return await self._announce_all(None, page, deleted=False)

    async def resync(self, org_id: str | None, page: int = 200) -> int:
        """Announces every automation of ``org_id`` (None: of every organization) again, deleted
        ones as tombstones, at its current revision; how many (decision 0032).

        Each announcement carries a message id of its own (``...:resync:<id>``), so the stream's
        duplicate window cannot swallow it however recently the original went out. Consumers
        apply a revision only when it is newer than theirs: a row they lost comes back, one they
        have is left alone, and a change made meanwhile (a higher revision) is never undone,
        whichever message arrives first.
        """
        return await self._announce_all(org_id, page, deleted=True, resync=new_id())

    async def _announce_all(self, org_id: str | None, page: int, *, deleted: bool, resync: str = "") -> int:
        """Announces the automations of ``org_id`` (None: every organization's), deleted ones as
        tombstones when ``deleted``, ``page`` per transaction in id order; how many."""
        after, total = "", 0
        while True:
            async with self._db.transaction() as session:
                repo = AutomationRepository(session)
                rows = await repo.page_after(org_id, after, page, deleted=deleted)
                for row, data in rows:
                    workflow = None if row.deleted_at is not None else workflow_from_json(data)
                    await self._announce(repo, row, workflow, resync=resync)
            total += len(rows)
            if len(rows) < page:
                return total
            after = rows[-1][0].id

    # --- checks that write nothing --------------------------------------------------------

    async def validate(self, identity: Identity, workflow: Workflow) -> list[Issue]:
        """Every problem of ``workflow`` for the caller's organization, with its path; empty when
        it can be saved."""
        limits = await self._limits.limits(identity) if self._limits is not None else None
        issues = self._rules.issues(identity.org_id, workflow, limits)
        if self._connections is not None and uses_connections(workflow):
            known = await self._connections.connections(identity)
            found = connection_issues(workflow, known) if known is not None else []
            if found:  # maybe a connection created a moment ago: ask again before reporting
                known = await self._connections.connections(identity, fresh=True)
                found = connection_issues(workflow, known) if known is not None else []
            issues += found
        return issues

    async def test(
        self, identity: Identity, automation_id: str, event: Event, wait_outcomes: Mapping[str, str]
    ) -> dryrun.DryRun:
        """A dry run of the current version on a sample event: reads only, writes and sends nothing."""
        require(id=automation_id)
        async with self._db.transaction() as session:
            repo = AutomationRepository(session)
            row = await repo.get(identity.org_id, automation_id)
            if row is None:
                raise _not_found(automation_id)
            workflow = await self._current(repo, row)
        issues = dryrun.wait_outcome_issues(workflow, wait_outcomes)
        if issues:
            raise _invalid("invalid wait_outcomes", issues)
        sample = Event()
        sample.CopyFrom(event)
        sample.organization_id = identity.org_id
        return dryrun.dry_run(row.id, workflow, sample, wait_outcomes, self._clock.now())

    # --- helpers -------------------------------------------------------------------------

    @staticmethod
    def _describe(row: Automation, workflow: Workflow) -> None:
        """Copies what List filters on from the workflow into the row."""
        row.name = workflow.name
        row.description = workflow.description
        row.trigger_type = workflow.trigger.type
        row.event_type = dryrun.trigger_event(workflow)

    @staticmethod
    def _version(row: Automation, workflow: Workflow, identity: Identity, now: datetime) -> AutomationVersion:
        return AutomationVersion(
            automation_id=row.id,
            version=row.version,
            org_id=row.org_id,
            workflow=workflow_to_json(workflow),
            created_at=now,
            created_by=identity.user_id,
        )

    @staticmethod
    async def _locked(repo: AutomationRepository, identity: Identity, automation_id: str) -> Automation:
        """The automation, locked until the transaction ends, so changes to it are serial."""
        row = await repo.get(identity.org_id, automation_id, for_update=True)
        if row is None:
            raise _not_found(automation_id)
        return row

    @staticmethod
    async def _current(repo: AutomationRepository, row: Automation) -> Workflow:
        data = await repo.workflow(row.org_id, row.id, row.version)
        if data is None:  # pragma: no cover - the current version always exists
            raise _not_found(row.id)
        return workflow_from_json(data)

    async def _announce(
        self, repo: AutomationRepository, row: Automation, workflow: Workflow | None, *, resync: str = ""
    ) -> None:
        """Writes the AutomationChanged of the row's new revision (DELETED when no workflow);
        ``resync`` names the resync that announces it again (a message id of its own)."""
        await repo.flush()
        message = AutomationChanged(
            kind=ChangeKind.CHANGE_KIND_DELETED if workflow is None else ChangeKind.CHANGE_KIND_UPSERTED,
            organization_id=row.org_id,
            automation_id=row.id,
            version=row.version,
            active=row.active,
            revision=row.revision,
        )
        if workflow is not None:
            message.workflow.CopyFrom(workflow)
            message.workflow_digest = workflow_digest(workflow)
        message.occurred_at.FromDatetime(row.update_time)
        await repo.announce(
            self._topology.automation_changed(row.org_id),
            message,
            msg_id=f"automation:{row.id}:rev:{row.revision}" + (f":resync:{resync}" if resync else ""),
            org_id=row.org_id,
        )


TRIGGER_CATEGORIES: tuple[str, ...] = ("event", "time", "condition")


class CatalogService:
    """What the engine can run, from ``beez.workflow.catalog``; the same for every organization."""

    @staticmethod
    def trigger_types(category: str = "") -> list[catalog.TriggerType]:
        """Every trigger type, or those of one category (event, time or condition)."""
        _known_category(category, TRIGGER_CATEGORIES)
        return [entry for entry in catalog.trigger_types() if not category or entry.category == category]

    @staticmethod
    def action_types(category: str = "") -> list[catalog.ActionType]:
        """Every action and control type, or those of one category."""
        _known_category(category, catalog.ACTION_CATEGORIES)
        return [entry for entry in catalog.action_types() if not category or entry.category == category]

    @staticmethod
    def trigger_schema(type_: str) -> dict[str, Any]:
        """The JSON schema of a trigger of this type; NOT_FOUND for a type the engine does not run."""
        require(type=type_)
        if catalog.trigger_type(type_) is None:
            raise NotFound(f"unknown trigger type {type_!r}")
        return catalog.trigger_schema(type_)

    @staticmethod
    def action_schema(type_: str) -> dict[str, Any]:
        """The JSON schema of an action type's config; NOT_FOUND for a type the engine does not run."""
        require(type=type_)
        if catalog.action_type(type_) is None:
            raise NotFound(f"unknown action type {type_!r}")
        return catalog.action_schema(type_)

    @staticmethod
    def operators() -> list[catalog.Operator]:
        return catalog.operators()


def _known_category(category: str, known: tuple[str, ...]) -> None:
    if category and category not in known:
        raise InvalidArgument(
            f"unknown category {category!r}",
            [FieldViolation("category", f"must be one of {', '.join(known)}")],
        )
