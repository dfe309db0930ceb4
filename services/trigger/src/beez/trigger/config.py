"""Settings of the trigger service (environment variables prefixed ``BEEZ_``)."""

from __future__ import annotations

from pydantic import Field

from beez.kit.settings import ServiceSettings


class TriggerSettings(ServiceSettings):
    """The trigger service's settings."""

    service_name: str = "trigger"
    grpc_port: int = 50052

    automation_addr: str = Field(
        default="127.0.0.1:50051",
        min_length=1,
        description="host:port of the automation service, asked to resync the automation index.",
    )
    resync_on_empty_index: bool = Field(
        default=True,
        description=(
            "At start, when the automation index has no row, ask the automation service to announce "
            "every automation again (docs/decisions/0032)."
        ),
    )
    resync_timeout_s: float = Field(
        default=600.0,
        gt=0,
        description=(
            "Deadline of the resync request at start. The automation service announces every "
            "organization's automations within it; past it the request is cancelled and asked again "
            "from the start, so it must cover the whole installation."
        ),
    )
    events_concurrency: int = Field(
        default=64, ge=1, description="Events from events.> in hand at once (durable trigger-events)."
    )
    events_batch_max: int = Field(
        default=64, ge=1, description="Most events from events.> per transaction (of any organizations)."
    )
    events_batch_shards: int = Field(
        default=2,
        ge=1,
        description=(
            "Event transactions that may run at once; an organization's events always go to the "
            "same one, so two never hold the same organization's rows."
        ),
    )
    automations_concurrency: int = Field(
        default=4, ge=1, description="Automation changes projected at once (durable trigger-automations)."
    )
    waits_concurrency: int = Field(
        default=8, ge=1, description="Wait registrations stored at once (durable trigger-waits)."
    )
    commands_concurrency: int = Field(
        default=8,
        ge=1,
        description="Platform commands applied to the contact projection at once (durable trigger-commands).",
    )
    executions_concurrency: int = Field(
        default=256,
        ge=1,
        description=(
            "Execution lifecycle events in hand at once (durable trigger-executions); enough for "
            "the events in flight to form batches."
        ),
    )
    executions_batch_max: int = Field(
        default=128, ge=1, description="Most execution lifecycle events applied per transaction."
    )
    executions_linger_s: float = Field(
        default=0.02,
        ge=0,
        description=(
            "How long a lifecycle batch waits for more events once its first arrives. These "
            "consumers are off the latency path, so under light load a few milliseconds turn "
            "one-event transactions (a started here, its completed there) into shared ones."
        ),
    )
    executions_batch_shards: int = Field(
        default=2,
        ge=1,
        description=(
            "Lifecycle batches one replica runs at once; an execution's events always fall in the "
            "same one (by a hash of its id)."
        ),
    )
    consumer_max_deliver: int = Field(
        default=5, ge=1, description="Handler attempts per message before it goes to dlq.<durable>."
    )
    consumer_ack_wait_s: float = Field(
        default=30.0, gt=0, description="Seconds before an unacknowledged message is redelivered."
    )
    publish_batch_max: int = Field(
        default=500, ge=1, description="Most events one PublishEvents call may carry."
    )
    max_event_bytes: int = Field(
        default=256 * 1024,
        ge=1024,
        description=(
            "Largest serialized event accepted, in bytes; the server's max_payload/4 is the ceiling "
            "so any event fits a START job with any accepted workflow (docs/decisions/0026)."
        ),
    )
    list_page_size: int = Field(default=50, ge=1, description="ListEvents page size when none is asked.")
    list_page_size_max: int = Field(default=200, ge=1, description="Largest ListEvents page.")
    counter_retention_days: int = Field(
        default=90,
        ge=1,
        le=3660,
        description=(
            "Days of per-type event counters each projected contact keeps (bucketed per UTC day); "
            "older days are pruned when the contact next changes. Bounds behavior_pattern and "
            "engagement_level windows."
        ),
    )
    condition_cache_size: int = Field(
        default=100_000,
        ge=16,
        description="Condition automation versions whose compiled condition is kept in memory.",
    )
    import_batch_max: int = Field(
        default=1000, ge=1, description="Most contacts one ImportContacts call may carry."
    )
    condition_sweep_interval_s: float = Field(
        default=300.0,
        gt=0,
        description=(
            "How often time-dependent condition triggers (date_range) are re-evaluated for contacts "
            "whose state did not change: a date entering or leaving the range."
        ),
    )
    condition_sweep_batch: int = Field(
        default=10_000,
        ge=1,
        description="Most contacts one sweep enters or re-arms per automation (the rest on the next sweep).",
    )
    compiled_cache_size: int = Field(
        default=2048, ge=16, description="Automation versions whose compiled trigger is kept in memory."
    )
    event_retention_days: int = Field(
        default=30,
        ge=1,
        description=(
            "Days an event (and the enrollments of ended executions) stay in the history. An event "
            "re-sent after that is no longer recognised as a duplicate."
        ),
    )
    wait_tombstone_retention_s: float = Field(
        default=86_400.0,
        gt=0,
        description=(
            "Seconds a closed or expired wait is kept, so a late redelivery of its registration "
            "cannot bring it back."
        ),
    )
    maintenance_interval_s: float = Field(
        default=300.0, gt=0, description="Seconds between purges of old events and closed waits."
    )
    start_redispatch_after_s: float = Field(
        default=300.0,
        gt=0,
        description=(
            "Seconds after its START job was (re-)dispatched that an enrollment the executor has not "
            "reported started gets its START published again (decision 0008)."
        ),
    )
    start_redispatch_max: int = Field(
        default=3,
        ge=0,
        description=(
            "Times one START is re-dispatched; one deadline after the last, the sweeper gives up "
            "and records it in given_up_at."
        ),
    )
    start_credits_per_org: int = Field(
        default=512,
        ge=0,
        description=(
            "START jobs one organization may have waiting for the executors at once (sent, not yet "
            "reported started); the rest wait in their enrollment rows, in order, and go out as "
            "earlier ones start, so no organization's backlog queues in front of another's "
            "(decision 0039). 0: no limit."
        ),
    )
    start_sweep_interval_s: float = Field(
        default=30.0, gt=0, description="Seconds between two rounds of the start sweeper."
    )
    start_sweep_batch: int = Field(
        default=500, ge=1, description="Most enrollments one round of the start sweeper handles."
    )
    executor_addr: str = Field(
        default="127.0.0.1:50053",
        min_length=1,
        description="host:port of the executor, asked by the slot reconciler how executions ended.",
    )
    executor_timeout_s: float = Field(default=5.0, gt=0, description="Deadline of one GetExecution call.")
    slot_reconcile_after_s: float = Field(
        default=900.0,
        gt=0,
        description=(
            "Seconds a concurrency slot is held before the reconciler asks the executor whether its "
            "execution ended without the trigger hearing of it (decision 0028)."
        ),
    )
    slot_reconcile_interval_s: float = Field(
        default=60.0, gt=0, description="Seconds between two rounds of the slot reconciler."
    )
    slot_reconcile_batch: int = Field(
        default=200, ge=1, description="Long-held slots one round of the slot reconciler looks at."
    )

    # --- ingestion limit (decision 0031) -------------------------------------------------------
    ingest_rate_per_org: float = Field(
        default=1000.0,
        gt=0,
        description=(
            "Events per second one organization may have ingested from events.> (a token bucket "
            "shared by every trigger replica); events over it wait, they are never dropped."
        ),
    )
    ingest_burst_per_org: float = Field(
        default=2000.0, ge=1, description="Events one organization may have ingested at once, above the rate."
    )
    ingest_limit_lease: int = Field(
        default=20,
        ge=1,
        description="Tokens a replica takes from the shared bucket per round trip (at most burst/4).",
    )
    overflow_concurrency: int = Field(
        default=4,
        ge=1,
        description=(
            "Events the trigger-overflow consumer (events set aside over their organization's "
            "ingestion limit) handles at once; it holds twice that, so a flood waits in the stream "
            "rather than in memory."
        ),
    )
    events_max_ack_pending: int = Field(
        default=0,
        ge=0,
        description=(
            "Events the trigger-events consumer may hold unacknowledged, those waiting out the "
            "ingestion limit included; 0: four times events_concurrency, so a throttled "
            "organization's waiting events leave room for the others'."
        ),
    )

    # --- inbound webhooks (decision 0036) ------------------------------------------------------
    hook_keys_file: str = Field(
        default="",
        description=(
            "The key ring that encrypts the hooks' signing secrets: one '<key id>:<Fernet key>' per "
            "line, the first encrypting (beez.kit.keyring). Empty: local mode uses a public "
            "development key; production refuses to create or rotate hooks."
        ),
    )
    hooks_public_url: str = Field(
        default="",
        description=(
            "The gateway's public base URL (https://api.example.com): a created hook's url is "
            "<this>/hooks/<token>. Empty: the url is the path alone."
        ),
    )
    hooks_max_per_org: int = Field(default=100, ge=1, description="Most hooks one organization may have.")
    hook_rate_per_s: float = Field(
        default=10.0,
        gt=0,
        description="Deliveries per second one hook accepts (a token bucket shared by every replica).",
    )
    hook_burst: float = Field(default=50.0, ge=1, description="Deliveries one hook accepts at once.")
    hook_limit_lease: int = Field(
        default=5,
        ge=1,
        description="Tokens a replica takes from a hook's shared bucket per round trip (at most burst/4).",
    )
    hook_signature_tolerance_s: float = Field(
        default=300.0,
        gt=0,
        description=(
            "How far a signature's timestamp may be from now, in seconds; an older signed request "
            "is refused, so a captured one cannot be replayed later."
        ),
    )

    # --- time-based triggers (decision 0038) ----------------------------------------------------
    schedule_poll_interval_s: float = Field(
        default=1.0, gt=0, description="Seconds between two looks for due fires of time-based triggers."
    )
    schedule_page_size: int = Field(
        default=1000,
        ge=1,
        description="Contacts one transaction of a fan-out enrolls (a keyset page of the audience).",
    )
    schedule_min_interval_s: float = Field(
        default=60.0,
        gt=0,
        description=(
            "The most often a time-based trigger may fire, in seconds: a cron or interval more "
            "frequent is refused (validation uses the same default)."
        ),
    )
