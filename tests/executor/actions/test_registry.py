"""The registry covers every runnable type of the catalog, and owns only what it creates."""

from __future__ import annotations

import httpx
import pytest
from aiohttp import web

from beez.executor.actions import ACTION_TYPES, ActionSettings, build_registry
from beez.workflow import catalog
from tests.executor.actions.conftest import StandIn, make_ctx, settings_for


async def test_every_non_control_catalog_type_has_its_action() -> None:
    registry = build_registry(ActionSettings())
    try:
        runnable = {entry.type for entry in catalog.action_types() if not entry.is_control}
        assert set(registry) == runnable == set(ACTION_TYPES)
        assert all(action.type == type_ for type_, action in registry.items())
    finally:
        await registry.aclose()


async def test_aclose_closes_the_client_it_created_but_not_one_passed_in(stand_in: StandIn) -> None:
    owned = build_registry(ActionSettings())
    await owned.aclose()
    assert owned.http.client.is_closed

    async with httpx.AsyncClient() as client:
        borrowed = build_registry(ActionSettings(), http=client)
        await borrowed.aclose()
        assert not client.is_closed


async def test_a_client_passed_in_is_used_and_still_guarded(stand_in: StandIn) -> None:
    stand_in.script("POST", "/hook", lambda: web.Response(text="ok"))
    async with httpx.AsyncClient(trust_env=False) as client:
        allowed = build_registry(settings_for(stand_in), http=client)
        assert (await allowed["webhook"].run(make_ctx({"url": stand_in.url("/hook")}))).status == "succeeded"
        refused = build_registry(settings_for(stand_in, ssrf_allowlist=[]), http=client)
        with pytest.raises(Exception, match="loopback"):
            await refused["webhook"].run(make_ctx({"url": stand_in.url("/hook")}))
    assert len(stand_in.seen) == 1
