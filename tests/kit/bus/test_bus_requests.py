"""CRM requests under the real NATS permissions (decision 0042): the executor asks on
``platform.requests.<org>.<verb>``, the ``platform`` user (the CRM) answers once into the
executor's own inbox, no stream stores the request, and no other user may listen in."""

from __future__ import annotations

from pathlib import Path

from nats.aio.msg import Msg

from beez.kit.bus.topology import Topology, ensure_streams
from tests.kit.bus.nats_auth import Refusals, auth_nats

PREFIX = "tq"


async def test_the_executor_asks_and_only_the_crm_answers(tmp_path: Path) -> None:
    async with auth_nats(tmp_path / "nats", PREFIX) as server:
        topology = Topology(PREFIX)
        executor = await server.client("executor")
        await ensure_streams(executor.jetstream(), topology)
        crm = await server.client("platform")

        async def answer(msg: Msg) -> None:
            await msg.respond(b"c_new:" + msg.data)

        await crm.subscribe(topology.request("o1", ">"), cb=answer)
        await crm.flush()

        reply = await executor.request(topology.request("o1", "create_contact"), b"k1", timeout=5)
        assert reply.data == b"c_new:k1"
        ops = await server.client("ops")
        for stream in ("COMMANDS", "EVENTS"):  # a request is no stream's message
            info = await ops.jetstream().stream_info(topology.stream(stream))
            assert info.state.messages == 0, stream

        refusals = Refusals()
        trigger = await server.client("trigger", refusals)
        await trigger.subscribe(topology.request("o1", ">"))
        await trigger.flush()
        [violation] = await refusals.wait_for(1)
        assert "subscription" in violation.lower()
        # the CRM may answer a request, but may not publish requests of its own
        crm_refusals = Refusals()
        rogue = await server.client("platform", crm_refusals)
        await rogue.publish(topology.request("o1", "create_contact"), b"forged")
        await rogue.flush()
        [forged] = await crm_refusals.wait_for(1)
        assert "publish" in forged.lower()
        for nc in (executor, crm, trigger, rogue, ops):
            await nc.close()
