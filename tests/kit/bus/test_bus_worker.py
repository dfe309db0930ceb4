"""The pull worker: bounded retries, dead letters, heartbeats, nak delays, graceful stop.

Several tests check the server's own behaviour (``nak(delay)``, ``in_progress()``) on the version
we ship, as docs/architecture asks before relying on it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from beez.kit.bus import Deferred, PermanentError, Publisher, PullWorker, Topology, ensure_streams
from beez.kit.bus.connect import connect
from beez.kit.bus.worker import Handler
from beez.kit.embedded import EmbeddedNats
from tests.kit.bus.bus_support import stream_messages, wait_until

StartWorker = Callable[[PullWorker], PullWorker]


def worker(js: JetStreamContext, topology: Topology, handler: Handler, **options: Any) -> PullWorker:
    """A worker on the JOBS stream unless ``options`` say otherwise."""
    defaults: dict[str, Any] = {"stream": "JOBS", "durable": "executor", "subjects": "jobs.>"}
    return PullWorker(js, topology, handler=handler, **{**defaults, **options})


def constant(seconds: float) -> Callable[[int], float]:
    """A backoff of ``seconds`` whatever the delivery count."""
    return lambda n: seconds


async def test_handler_that_keeps_raising_is_retried_to_its_bound_then_dead_lettered(
    js: JetStreamContext, topology: Topology, start_worker: StartWorker
) -> None:
    calls: list[int] = []

    async def always_fails(msg: Msg) -> None:
        calls.append(msg.metadata.num_delivered)
        raise RuntimeError("provider said no\nfor job 42")

    subject = topology.jobs("high", "acme")
    await Publisher(js).publish(
        subject, b"job-42", msg_id="job-42", org_id="acme", headers={"X-Reason": "start"}
    )
    pull_worker = start_worker(worker(js, topology, always_fails, max_deliver=3, backoff=constant(0.05)))
    await wait_until(lambda: pull_worker.stats.dead_lettered == 1, what="dead-lettered")
    await asyncio.sleep(0.3)  # nothing more may happen

    assert calls == [1, 2, 3]
    assert (pull_worker.stats.failed, pull_worker.stats.processed) == (3, 0)
    [dead] = await stream_messages(js, topology.stream("DLQ"))
    assert dead.subject == topology.dlq("executor")
    assert dead.data == b"job-42"
    headers = dead.headers or {}
    assert headers["X-Reason"] == "start"
    assert headers["Beez-Org-Id"] == "acme"
    assert headers["Beez-Dlq-Error"] == "RuntimeError: provider said no for job 42"
    assert headers["Beez-Dlq-Stream"] == topology.stream("JOBS")
    assert headers["Beez-Dlq-Subject"] == subject
    assert headers["Beez-Dlq-Sequence"] == "1"
    assert headers["Beez-Dlq-Deliveries"] == "3"
    assert headers["Beez-Dlq-Consumer"] == "executor"
    assert headers["Beez-Dlq-Original-Msg-Id"] == "job-42"
    assert headers["Nats-Msg-Id"] == f"dlq:executor:{topology.stream('JOBS')}:1"
    jobs = await js.stream_info(topology.stream("JOBS"))
    assert jobs.state.messages == 0, "terminated, so the work queue let go of it"


async def test_poison_message_goes_straight_to_dlq(
    js: JetStreamContext, topology: Topology, start_worker: StartWorker
) -> None:
    calls = 0

    async def undecodable(msg: Msg) -> None:
        nonlocal calls
        calls += 1
        raise PermanentError("not a protobuf Job")

    await js.publish(topology.jobs("normal", "acme"), b"\xff\xfe")
    pull_worker = start_worker(worker(js, topology, undecodable, max_deliver=5, backoff=constant(0.05)))
    await wait_until(lambda: pull_worker.stats.dead_lettered == 1, what="dead-lettered")
    await asyncio.sleep(0.2)
    assert calls == 1
    [dead] = await stream_messages(js, topology.stream("DLQ"))
    assert dead.data == b"\xff\xfe"
    assert (dead.headers or {})["Beez-Dlq-Error"] == "PermanentError: not a protobuf Job"
    assert (dead.headers or {})["Beez-Dlq-Deliveries"] == "1"


async def test_message_whose_last_attempt_never_finished_is_dead_lettered_on_the_spare_delivery(
    js: JetStreamContext, topology: Topology, start_worker: StartWorker
) -> None:
    """Stands for a worker dying mid-handler: without an ack, ack_wait expiry redelivers it."""
    calls: list[int] = []
    never = asyncio.Event()

    async def hangs(msg: Msg) -> None:
        calls.append(msg.metadata.num_delivered)
        await never.wait()

    await js.publish(topology.jobs("normal", "acme"), b"oom")
    pull_worker = start_worker(
        worker(
            js, topology, hangs, max_deliver=2, ack_wait=0.5, heartbeat=False, concurrency=4, stop_timeout=0.1
        )
    )
    await wait_until(lambda: pull_worker.stats.dead_lettered == 1, what="dead-lettered")
    assert calls == [1, 2], "the handler ran max_deliver times, never on the spare delivery"
    [dead] = await stream_messages(js, topology.stream("DLQ"))
    assert (dead.headers or {})["Beez-Dlq-Error"].startswith("DeliveryLimitReached: delivered 3 times")
    assert (dead.headers or {})["Beez-Dlq-Deliveries"] == "3"


async def test_other_messages_keep_flowing_while_one_is_retried(
    js: JetStreamContext, topology: Topology, start_worker: StartWorker
) -> None:
    done: list[bytes] = []
    attempts: list[float] = []

    async def handler(msg: Msg) -> None:
        if msg.data == b"bad":
            attempts.append(time.monotonic())
            raise RuntimeError("still failing")
        done.append(msg.data)

    await js.publish(topology.jobs("normal", "acme"), b"bad")
    for i in range(5):
        await js.publish(topology.jobs("normal", "acme"), f"good-{i}".encode())
    pull_worker = start_worker(worker(js, topology, handler, max_deliver=2, backoff=constant(0.8)))
    await wait_until(lambda: len(done) == 5, what="good messages processed")
    assert len(attempts) == 1, "all five went through while the bad one waited for its retry"
    await wait_until(lambda: pull_worker.stats.dead_lettered == 1, what="bad one dead-lettered")


async def test_slow_handler_with_heartbeats_is_not_redelivered(
    js: JetStreamContext, topology: Topology, start_worker: StartWorker
) -> None:
    """ack_wait 1 s, a 3.5 s handler: in_progress() every ~0.33 s keeps the server from redelivering.

    The control runs at the same time with heartbeats off and shows the server does redeliver
    the message (to a second handler, while the first still runs) once ack_wait passes.
    """
    runs: dict[str, list[int]] = {"beating": [], "silent": []}
    running: dict[str, int] = {"beating": 0, "silent": 0}
    overlap: dict[str, int] = {"beating": 0, "silent": 0}

    def slow(name: str) -> Handler:
        async def handler(msg: Msg) -> None:
            runs[name].append(msg.metadata.num_delivered)
            running[name] += 1
            overlap[name] = max(overlap[name], running[name])
            try:
                await asyncio.sleep(3.5)
            finally:
                running[name] -= 1

        return handler

    for name, heartbeat in (("beating", True), ("silent", False)):
        start_worker(
            PullWorker(
                js,
                topology,
                stream="EVENTS",
                durable=f"slow-{name}",
                subjects=f"events.{name}.>",
                handler=slow(name),
                ack_wait=1.0,
                heartbeat=heartbeat,
                concurrency=4,
                stop_timeout=0.1,
            )
        )
        await js.publish(topology.events(name, "slow"), b"work")

    await wait_until(lambda: running["beating"] == 0 and len(runs["beating"]) == 1, within=6, what="done")
    await asyncio.sleep(1.3)  # past another ack_wait: an acked message stays acked

    assert runs["beating"] == [1]
    assert overlap["beating"] == 1
    assert runs["silent"][:2] == [1, 2]
    assert overlap["silent"] >= 2, "redelivered while the first handler was still running"


async def test_nak_delay_is_honoured(
    js: JetStreamContext, topology: Topology, start_worker: StartWorker
) -> None:
    """nak(delay=1.0) holds the redelivery back about a second; a plain nak redelivers at once."""
    seen: dict[str, list[float]] = {"delayed": [], "immediate": []}

    def fails_once(name: str) -> Handler:
        async def handler(msg: Msg) -> None:
            seen[name].append(time.monotonic())
            if msg.metadata.num_delivered == 1:
                raise RuntimeError("try again")

        return handler

    for name, delay in (("delayed", 1.0), ("immediate", 0.0)):
        start_worker(
            PullWorker(
                js,
                topology,
                stream="EVENTS",
                durable=f"nak-{name}",
                subjects=f"events.{name}.>",
                handler=fails_once(name),
                backoff=constant(delay),
            )
        )
        await js.publish(topology.events(name, "x"), b"x")

    await wait_until(lambda: all(len(v) == 2 for v in seen.values()), within=5, what="both redelivered")
    delayed = seen["delayed"][1] - seen["delayed"][0]
    immediate = seen["immediate"][1] - seen["immediate"][0]
    assert 0.9 <= delayed < 1.8, delayed
    assert immediate < 0.5, immediate


async def test_stop_waits_for_running_handlers_and_keeps_the_durable(
    js: JetStreamContext, topology: Topology
) -> None:
    started = asyncio.Event()

    async def slowish(msg: Msg) -> None:
        started.set()
        await asyncio.sleep(0.3)

    pull_worker = worker(js, topology, slowish)
    task = asyncio.create_task(pull_worker.run())
    await js.publish(topology.jobs("low", "acme"), b"x")
    await asyncio.wait_for(started.wait(), 5)
    await pull_worker.stop()
    await task
    assert pull_worker.stats.processed == 1
    for _ in range(50):  # the server applies acks asynchronously
        info = await js.consumer_info(topology.stream("JOBS"), "executor")
        if info.num_ack_pending == 0:
            break
        await asyncio.sleep(0.02)
    assert info.num_ack_pending == 0
    assert (await js.stream_info(topology.stream("JOBS"))).state.messages == 0


async def test_stop_before_run_and_unknown_stream_do_not_crash(
    js: JetStreamContext, topology: Topology
) -> None:
    async def never(msg: Msg) -> None:
        raise AssertionError

    pull_worker = worker(js, topology, never, stream="NOPE", error_pause=0.05)
    await pull_worker.stop()  # never started: returns at once
    task = asyncio.create_task(pull_worker.run())
    await asyncio.sleep(0.3)  # declaring the consumer keeps failing; run() logs and retries
    assert not task.done()
    await pull_worker.stop()
    await task
    with pytest.raises(NotFoundError):
        await js.consumer_info(topology.stream("NOPE"), "executor")


async def test_worker_resumes_after_the_nats_server_restarts(tmp_path: Path, bus_prefix: str) -> None:
    server = EmbeddedNats(tmp_path / "nats").start()
    nc = await connect(server.url, "restart-test", reconnect_time_wait=1)
    try:
        js = nc.jetstream(timeout=2)
        topology = Topology(bus_prefix)
        await ensure_streams(js, topology)
        handled: list[bytes] = []

        async def handler(msg: Msg) -> None:
            handled.append(msg.data)

        pull_worker = worker(js, topology, handler, fetch_timeout=1.0, error_pause=0.1)
        task = asyncio.create_task(pull_worker.run())
        await js.publish(topology.jobs("high", "acme"), b"before")
        await wait_until(lambda: pull_worker.stats.processed == 1, what="first message")
        await nc.flush()  # its ack reached the server before the crash

        server.kill()
        await asyncio.sleep(1.0)  # fetches time out, nothing crashes
        assert not task.done()
        server.start()
        await wait_until(lambda: nc.is_connected, within=10, what="reconnected")
        await js.publish(topology.jobs("high", "acme"), b"after")
        await wait_until(lambda: handled == [b"before", b"after"], within=10, what="second message")
        await pull_worker.stop()
        await task
    finally:
        await nc.close()
        server.stop()


async def test_a_trickle_is_served_by_open_pull_requests_not_one_per_message(
    js: JetStreamContext, topology: Topology
) -> None:
    """A continuous pull: at light load each message used to cost a pull request (and a status
    reply) of its own; an open request now delivers messages as they come, and a new one asks for
    more only once half a batch has been delivered."""
    requests: list[bytes] = []
    nc = js._nc
    publish = nc.publish

    async def counting(subject: str, payload: bytes = b"", reply: str = "", headers: Any = None) -> None:
        if ".CONSUMER.MSG.NEXT." in subject:
            requests.append(payload)
        await publish(subject, payload, reply, headers)

    handled: list[bytes] = []

    async def handler(msg: Msg) -> None:
        handled.append(msg.data)

    nc.publish = counting  # type: ignore[method-assign]
    pull_worker = worker(js, topology, handler, concurrency=8)
    task = asyncio.create_task(pull_worker.run())
    try:
        for i in range(20):
            await js.publish(topology.jobs("low", "acme"), str(i).encode())
            await wait_until(lambda: len(handled) == i + 1, what=f"message {i}")  # noqa: B023
    finally:
        await pull_worker.stop()
        await task
        nc.publish = publish  # type: ignore[method-assign]
    assert handled == [str(i).encode() for i in range(20)]
    assert len(requests) <= 20 // 4 + 1, requests  # a request per 4 messages (half of 8), not 20


async def test_concurrency_holds_under_a_continuous_pull(js: JetStreamContext, topology: Topology) -> None:
    running = 0
    peak = 0

    async def handler(msg: Msg) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)
        running -= 1

    pull_worker = worker(js, topology, handler, concurrency=4)
    task = asyncio.create_task(pull_worker.run())
    try:
        for i in range(40):
            await js.publish(topology.jobs("low", "acme"), str(i).encode())
        await wait_until(lambda: pull_worker.stats.processed == 40, within=10, what="all messages")
    finally:
        await pull_worker.stop()
        await task
    assert peak == 4


async def test_a_deleted_consumer_is_declared_again(js: JetStreamContext, topology: Topology) -> None:
    handled: list[bytes] = []

    async def handler(msg: Msg) -> None:
        handled.append(msg.data)

    pull_worker = worker(js, topology, handler, error_pause=0.05, fetch_timeout=1.0)
    task = asyncio.create_task(pull_worker.run())
    try:
        await js.publish(topology.jobs("low", "acme"), b"first")
        await wait_until(lambda: handled == [b"first"], what="first message")
        await js.delete_consumer(topology.stream("JOBS"), "executor")
        await js.publish(topology.jobs("low", "acme"), b"second")
        await wait_until(lambda: handled == [b"first", b"second"], within=10, what="second message")
    finally:
        await pull_worker.stop()
        await task


async def test_a_consumer_deleted_while_no_request_was_open_is_declared_again(
    js: JetStreamContext, topology: Topology
) -> None:
    """With its one handler busy the worker has no pull request open, so the deletion sends it no
    409; its next request finds nothing serving the consumer's subject (503), and it declares
    the consumer again instead of asking forever."""
    handled: list[bytes] = []
    release = asyncio.Event()

    async def handler(msg: Msg) -> None:
        handled.append(msg.data)
        await release.wait()

    pull_worker = worker(js, topology, handler, concurrency=1, error_pause=0.05, fetch_timeout=1.0)
    task = asyncio.create_task(pull_worker.run())
    try:
        await js.publish(topology.jobs("low", "acme"), b"first")
        await wait_until(lambda: handled == [b"first"], what="first message")
        await js.delete_consumer(topology.stream("JOBS"), "executor")
        await js.publish(topology.jobs("low", "acme"), b"second")
        release.set()  # "first" is acked to the deleted consumer: the new one delivers it again
        await wait_until(lambda: b"second" in handled, within=10, what="second message")
    finally:
        await pull_worker.stop()
        await task


async def test_no_handler_starts_after_stop_and_nothing_is_lost(
    js: JetStreamContext, topology: Topology
) -> None:
    """A pull request stays open while the worker stops: a message it delivers then is handed
    back (nak), never started, and the next worker gets it."""
    started: list[bytes] = []
    stopping = False
    late_starts = 0

    async def slow(msg: Msg) -> None:
        nonlocal late_starts
        late_starts += stopping
        started.append(msg.data)
        await asyncio.sleep(0.5)

    subject = topology.jobs("low", "acme")
    pull_worker = worker(js, topology, slow, concurrency=4)
    task = asyncio.create_task(pull_worker.run())
    await js.publish(subject, b"first")
    await wait_until(lambda: started == [b"first"], what="first handler")
    stopping = True
    stop = asyncio.create_task(pull_worker.stop())  # waits for "first", its request still open
    await asyncio.sleep(0.1)
    await js.publish(subject, b"late")
    await stop
    await task
    assert (late_starts, started) == (0, [b"first"])

    again: list[bytes] = []

    async def record(msg: Msg) -> None:
        again.append(msg.data)

    w2 = worker(js, topology, record)
    task2 = asyncio.create_task(w2.run())
    try:
        await wait_until(lambda: again == [b"late"], within=40, what="the late message")
    finally:
        await w2.stop()
        await task2


async def test_deferred_message_is_handled_again_later_without_counting_a_delivery(
    js: JetStreamContext, topology: Topology, start_worker: StartWorker
) -> None:
    """A deferral is not a failure: more deferrals than max_deliver, and still no dead letter.

    With one handler slot, a message waiting out its deferral does not hold that slot: the
    other message is handled meanwhile.
    """
    seen: list[tuple[bytes, int]] = []

    async def rate_limited(msg: Msg) -> None:
        seen.append((msg.data, msg.metadata.num_delivered))
        if msg.data == b"noisy" and sum(1 for data, _ in seen if data == b"noisy") <= 4:
            raise Deferred(0.5, "org:acme")

    await js.publish(topology.jobs("normal", "acme"), b"noisy")
    await js.publish(topology.jobs("normal", "quiet"), b"quiet")
    pull_worker = start_worker(
        worker(js, topology, rate_limited, concurrency=1, max_ack_pending=5, max_deliver=2, ack_wait=1.5)
    )
    await wait_until(lambda: pull_worker.stats.processed == 2, within=10, what="both processed")

    assert pull_worker.stats.deferred == 4
    assert (pull_worker.stats.failed, pull_worker.stats.dead_lettered) == (0, 0)
    assert seen.index((b"quiet", 1)) < len(seen) - 1, "the quiet message did not wait for the noisy one"
    assert {n for data, n in seen if data == b"noisy"} == {1}, "held, never redelivered"
    assert not await stream_messages(js, topology.stream("DLQ"))


def refused() -> ConnectionRefusedError:
    """What a handler sees while PostgreSQL is down (psycopg's OperationalError wraps this too)."""
    return ConnectionRefusedError(111, "Connection refused")


async def test_an_outage_longer_than_every_retry_never_dead_letters_and_the_worker_pauses(
    js: JetStreamContext, topology: Topology, start_worker: StartWorker
) -> None:
    """Fails without the fix: with max_deliver=2 the message went to the DLQ after two tries."""
    down = True
    calls: list[int] = []

    async def needs_postgres(msg: Msg) -> None:
        calls.append(msg.metadata.num_delivered)
        if down:
            raise RuntimeError("could not run the job") from refused()

    await js.publish(topology.jobs("normal", "acme"), b"first")
    pull_worker = start_worker(
        worker(
            js,
            topology,
            needs_postgres,
            max_deliver=2,
            backoff=constant(0.05),
            probe_initial=0.05,
            probe_max=0.1,
        )
    )
    await wait_until(lambda: len(calls) >= 8, what="probing")
    assert pull_worker.paused
    await js.publish(topology.jobs("normal", "acme"), b"second")
    await asyncio.sleep(0.3)
    assert len(set(calls)) == 1, "one delivery, held: the server never redelivered it"
    before = len(calls)
    down = False
    await wait_until(lambda: pull_worker.stats.processed == 2, what="processed after the outage")
    assert not pull_worker.paused
    assert len(calls) == before + 2, "the probe, then the message that waited in the stream"
    assert pull_worker.stats.dead_lettered == 0 and pull_worker.stats.failed == 0
    assert pull_worker.stats.pauses == 1 and pull_worker.stats.unavailable >= 8
    assert await stream_messages(js, topology.stream("DLQ")) == []


async def test_deliveries_lost_while_held_are_not_counted(
    js: JetStreamContext, topology: Topology, start_worker: StartWorker
) -> None:
    """Without heartbeats (as while NATS is away) a held message's ack_wait runs out, and the pull
    after the pause brings it again while its held delivery still runs: that delivery must not
    count (fails without the fix: with max_deliver=1 it went to the DLQ as over the limit)."""
    down = True
    seen: list[tuple[bytes, int]] = []

    async def needs_postgres(msg: Msg) -> None:
        seen.append((msg.data, msg.metadata.num_delivered))
        if down:
            raise refused()
        if msg.metadata.num_delivered == 1:
            await asyncio.sleep(0.6)  # the held delivery, run again after the pause, is slow

    for i in range(2):
        await js.publish(topology.jobs("normal", "acme"), f"job-{i}".encode())
    pull_worker = start_worker(
        worker(
            js,
            topology,
            needs_postgres,
            max_deliver=1,
            ack_wait=0.4,
            heartbeat=False,
            concurrency=2,
            probe_initial=0.3,
            probe_max=0.3,
        )
    )
    await wait_until(lambda: pull_worker.stats.unavailable >= 2, what="both held")
    await asyncio.sleep(1.0)  # ack_wait runs out for both
    down = False
    await wait_until(lambda: any(n == 2 for _, n in seen), what="a lapsed hold delivered again")
    await asyncio.sleep(1.0)
    dead = await stream_messages(js, topology.stream("DLQ"))
    assert pull_worker.stats.dead_lettered == 0, (seen, [d.headers for d in dead])
    assert (await js.stream_info(topology.stream("JOBS"))).state.messages == 0


async def test_a_failed_dead_letter_publish_keeps_the_message_until_it_is_stored(
    js: JetStreamContext, topology: Topology, start_worker: StartWorker
) -> None:
    """Fails without the fix: after the spare delivery the server's limit dropped the message."""
    calls = 0

    async def poison(msg: Msg) -> None:
        nonlocal calls
        calls += 1
        raise PermanentError("not a protobuf Job")

    dlq = await js.stream_info(topology.stream("DLQ"))
    await js.delete_stream(topology.stream("DLQ"))  # every DLQ publish fails: no stream answers
    await js.publish(topology.jobs("normal", "acme"), b"\xff")
    pull_worker = start_worker(worker(js, topology, poison, max_deliver=1, backoff=constant(0.1)))
    await asyncio.sleep(1.5)  # several deliveries, every dead-lettering fails
    assert pull_worker.stats.dead_lettered == 0
    assert (await js.stream_info(topology.stream("JOBS"))).state.messages == 1, "kept"
    await js.add_stream(dlq.config)
    await wait_until(lambda: pull_worker.stats.dead_lettered == 1, what="dead-lettered once the DLQ is back")
    [dead] = await stream_messages(js, topology.stream("DLQ"))
    assert dead.data == b"\xff"
    assert calls == 1, "the handler ran once; the later deliveries only retried the DLQ"
    assert (await js.stream_info(topology.stream("JOBS"))).state.messages == 0


async def test_the_consumer_has_no_server_side_delivery_limit(
    js: JetStreamContext, topology: Topology
) -> None:
    async def ok(msg: Msg) -> None:
        return None

    assert worker(js, topology, ok, max_deliver=3).consumer_config().max_deliver == -1
