"""Inbound webhooks: what an organization's hooks are, and what a POST to one does (decision 0036).

Management (create, list, get, rotate, delete) is scoped by the caller's organization: another
organization's hook is NOT_FOUND. The token and the secret exist in plain text only in the
answer to a create or a rotation; the row keeps the token's SHA-256 and the secret encrypted
with the hook key ring (``BEEZ_HOOK_KEYS_FILE``), since verifying an HMAC needs the secret.

A delivery (:meth:`Hooks.deliver`), in order: find the hook by ``(organization, SHA-256 of the
token)`` (NOT_FOUND); spend a token of the hook's bucket ``hook:<id>`` (RESOURCE_EXHAUSTED with a
retry delay: the gateway's 429 and ``Retry-After``), before anything costlier, so a flood of
forged requests costs one bucket statement each; verify the signature when the hook requires
one or the request carries one (UNAUTHENTICATED: 401); parse the body; build the event and hand
it to :class:`~beez.trigger.ingest.Ingestor`, the same validation and the same transaction as
``PublishEvent``. The event's data is ``{"hook_id": ..., "payload": <the body>}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf import struct_pb2

from beez.api.messages.v1.events_pb2 import Event
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.grpc.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unauthenticated,
)
from beez.kit.ids import new_hex_id
from beez.kit.keyring import KeyRing
from beez.kit.logging import get_logger
from beez.kit.paging import PageLimits, cut_page, decode_moment_key, read_page
from beez.kit.ratelimit import LeasedLimiter, Limit
from beez.trigger.domain import hooks as domain
from beez.trigger.domain.validation import event_type_problem
from beez.trigger.ingest import Ingested, Ingestor
from beez.trigger.repository import Repository, transactional
from beez.trigger.repository.hooks import Credentials, StoredHook

log = get_logger(__name__)

MAX_NAME_LENGTH = 200


@dataclass(frozen=True, slots=True)
class HookSpec:
    """What a caller asks a hook to be."""

    name: str
    event_type: str
    contact_id_path: str
    require_signature: bool


@dataclass(frozen=True, slots=True)
class Revealed:
    """A hook and, this once, its token, URL and secret."""

    hook: StoredHook
    token: str
    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST to ``/hooks/{token}``, as the gateway passes it on."""

    token: str
    body: bytes
    content_type: str
    signature: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class Delivered:
    """What became of a delivery: the event it published (or, retried, had published)."""

    hook_id: str
    outcome: Ingested


@dataclass(frozen=True, slots=True)
class HookPage:
    hooks: list[StoredHook]
    next_page_token: str


class Hooks:
    """The hooks' use cases; one instance per process."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        ingestor: Ingestor,
        limiter: LeasedLimiter,
        *,
        ring: KeyRing | None,
        limit: Limit,
        public_url: str,
        max_per_org: int,
        signature_tolerance_s: float,
        page_limits: PageLimits,
    ) -> None:
        self._db = db
        self._clock = clock
        self._ingestor = ingestor
        self._limiter = limiter
        self._ring = ring
        self._limit = limit
        self._public_url = public_url.rstrip("/")
        self._max_per_org = max_per_org
        self._tolerance_s = signature_tolerance_s
        self._page_limits = page_limits

    # --- management --------------------------------------------------------------------------

    async def create(self, org_id: str, spec: HookSpec) -> Revealed:
        """A new hook of ``org_id``; INVALID_ARGUMENT naming each bad field, FAILED_PRECONDITION
        past ``max_per_org`` hooks or without a key ring."""
        spec = _checked(spec)
        ring = self._require_ring()
        token, secret = domain.new_token(org_id), domain.new_secret()
        hook = StoredHook(
            id=new_hex_id("hook_"),
            org_id=org_id,
            name=spec.name,
            event_type=spec.event_type,
            contact_id_path=spec.contact_id_path,
            require_signature=spec.require_signature,
            token_prefix=domain.token_prefix(token),
            secret=b"",
            created_at=self._clock.now(),
            rotated_at=None,
        )
        credentials = _credentials(ring, token, secret)

        async def work(repo: Repository) -> None:
            if await repo.count_hooks(org_id) >= self._max_per_org:
                raise FailedPrecondition(f"an organization has at most {self._max_per_org} hooks")
            await repo.insert_hook(hook, credentials)

        await transactional(self._db, work)
        log.info("hook created", org_id=org_id, hook_id=hook.id, event_type=hook.event_type)
        return Revealed(hook, token, self._url(token), secret)

    async def get(self, org_id: str, hook_id: str) -> StoredHook:
        async with self._db.transaction() as session:
            found = await (await Repository.of(session)).get_hook(org_id, hook_id)
        if found is None:
            raise NotFound(f"hook {hook_id} not found")
        return found

    async def list(self, org_id: str, page_size: int, page_token: str) -> HookPage:
        """One page of ``org_id``'s hooks, oldest first."""
        page = read_page(
            page_size,
            page_token,
            decode=decode_moment_key,
            default=self._page_limits.default,
            maximum=self._page_limits.maximum,
        )
        async with self._db.transaction() as session:
            rows = await (await Repository.of(session)).list_hooks(
                org_id, after=page.after, limit=page.size + 1
            )
        served, token = cut_page(rows, page.size, lambda row: (row.created_at, row.id))
        return HookPage(served, token)

    async def rotate(self, org_id: str, hook_id: str) -> Revealed:
        """A new token and secret for the hook; the old token is refused from this commit on."""
        ring = self._require_ring()
        token, secret = domain.new_token(org_id), domain.new_secret()
        credentials = _credentials(ring, token, secret)
        now = self._clock.now()
        rotated = await transactional(
            self._db, lambda repo: repo.rotate_hook(org_id, hook_id, credentials, now)
        )
        if rotated is None:
            raise NotFound(f"hook {hook_id} not found")
        log.info("hook rotated", org_id=org_id, hook_id=hook_id)
        return Revealed(rotated, token, self._url(token), secret)

    async def delete(self, org_id: str, hook_id: str) -> None:
        if not await transactional(self._db, lambda repo: repo.delete_hook(org_id, hook_id)):
            raise NotFound(f"hook {hook_id} not found")
        log.info("hook deleted", org_id=org_id, hook_id=hook_id)

    # --- delivery ----------------------------------------------------------------------------

    async def deliver(self, org_id: str, delivery: Delivery) -> Delivered:
        """Publishes the event a POST to ``/hooks/{token}`` stands for (see the module's docstring)."""
        hook = await self._hook_of(org_id, delivery.token)
        decision = await self._limiter.acquire(f"hook:{hook.id}", self._limit)
        if not decision.allowed:
            raise ResourceExhausted(
                f"too many deliveries to hook {hook.id}; retry after {decision.retry_after_header} s",
                retry_after=decision.retry_after,
            )
        if hook.require_signature or delivery.signature:
            secret = self._decrypt(hook)
            try:
                domain.verify_signature(
                    delivery.signature, secret, delivery.body, self._clock.now(), self._tolerance_s
                )
            except domain.SignatureError as exc:
                raise Unauthenticated(str(exc)) from None
        event = _event(hook, delivery)
        [prepared] = self._ingestor.prepare(org_id, [event], ["body"])
        [outcome] = await self._ingestor.ingest(org_id, [prepared])
        log.info(
            "hook delivered",
            org_id=org_id,
            hook_id=hook.id,
            event_id=outcome.event_id,
            accepted=outcome.accepted,
            started=len(outcome.execution_ids),
        )
        return Delivered(hook.id, outcome)

    async def _hook_of(self, org_id: str, token: str) -> StoredHook:
        if domain.token_org(token) != org_id:
            raise NotFound("no hook has this token")
        async with self._db.transaction() as session:
            found = await (await Repository.of(session)).hook_by_token(org_id, domain.token_hash(token))
        if found is None:
            raise NotFound("no hook has this token")
        return found

    # --- helpers -----------------------------------------------------------------------------

    def _require_ring(self) -> KeyRing:
        if self._ring is None:
            raise FailedPrecondition(
                "hooks need the key ring that encrypts their secrets: set BEEZ_HOOK_KEYS_FILE on the trigger"
            )
        return self._ring

    def _decrypt(self, hook: StoredHook) -> str:
        return self._require_ring().decrypt(hook.secret)

    def _url(self, token: str) -> str:
        return f"{self._public_url}/hooks/{token}"


def _credentials(ring: KeyRing, token: str, secret: str) -> Credentials:
    key_id, encrypted = ring.encrypt(secret)
    return Credentials(domain.token_hash(token), domain.token_prefix(token), encrypted, key_id)


def _checked(spec: HookSpec) -> HookSpec:
    """``spec`` with its defaults filled in; INVALID_ARGUMENT naming every bad field."""
    event_type = spec.event_type.strip() or domain.DEFAULT_EVENT_TYPE
    path = spec.contact_id_path.strip()
    violations: list[FieldViolation] = []
    if len(spec.name) > MAX_NAME_LENGTH:
        violations.append(FieldViolation("name", f"must be at most {MAX_NAME_LENGTH} characters"))
    problem = event_type_problem(event_type)
    if problem:
        violations.append(FieldViolation("eventType", problem))
    problem = domain.contact_path_problem(path)
    if problem:
        violations.append(FieldViolation("contactIdPath", problem))
    if violations:
        raise InvalidArgument(f"{len(violations)} invalid field(s) in the hook", violations)
    return HookSpec(spec.name.strip(), event_type, path, spec.require_signature)


def _event(hook: StoredHook, delivery: Delivery) -> Event:
    """The event of a delivery; INVALID_ARGUMENT for a body that is not JSON or a form, or a bad
    idempotency key."""
    try:
        payload: Any = domain.parse_payload(delivery.body, delivery.content_type)
    except domain.PayloadError as exc:
        raise InvalidArgument(str(exc), [FieldViolation("body", str(exc))]) from None
    event = Event(type=hook.event_type, contact_id=domain.contact_id_at(payload, hook.contact_id_path))
    key = delivery.idempotency_key.strip()
    if key:
        problem = domain.idempotency_problem(key)
        if problem:
            raise InvalidArgument(f"idempotency key {problem}", [FieldViolation("Idempotency-Key", problem)])
        event.id = domain.delivery_event_id(hook.id, key)
    data = struct_pb2.Struct()
    data.update({"hook_id": hook.id, "payload": payload})
    event.data.CopyFrom(data)
    return event
