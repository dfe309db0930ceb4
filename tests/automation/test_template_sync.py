"""The built-ins are stored idempotently at start: unchanged files write nothing, an edited file
rewrites its template (automations made from it keep their copy), a removed file retires it."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from beez.automation.library.loader import Library, load_library
from beez.automation.service import AutomationService
from beez.automation.template_service import TemplateService
from beez.kit.grpc.errors import NotFound
from beez.kit.grpc.identity import Identity
from tests.automation.conftest import AutomationEnv
from tests.automation.support import new_org

EDITED = "hot-lead-alert"
REMOVED = "stalled-deal-alert"


def _service(env: AutomationEnv, library: Library) -> TemplateService:
    runtime = env.svc.runtime
    automations = AutomationService(runtime.db, runtime.topology, runtime.clock)
    return TemplateService(runtime.db, runtime.clock, automations, library)


async def test_sync_writes_only_what_changed_and_automations_keep_their_copy(env: AutomationEnv) -> None:
    library = load_library()
    original = _service(env, library)
    assert await original.sync() == 0  # the service stored them at start
    who = Identity(org_id=new_org(), user_id="u_1")
    made = await original.create_from(who, EDITED, {}, "", active=False)

    template = library.templates[EDITED]
    workflow = copy.deepcopy(template.workflow)
    workflow["actions"][0]["config"]["team"] = "Revenue"
    edited = replace(template, description="Edited: the revenue team takes hot leads.", workflow=workflow)
    templates = {**library.templates, EDITED: edited}
    del templates[REMOVED]
    changed = _service(env, Library(library.categories, templates))
    assert await changed.sync() == 1

    row = await changed.get(who, EDITED)
    assert (
        row.description.startswith("Edited")
        and row.body["workflow"]["actions"][0]["config"]["team"] == "Revenue"
    )
    with pytest.raises(NotFound):
        await changed.get(who, REMOVED)
    kept = await AutomationService(env.svc.runtime.db, env.svc.runtime.topology, env.svc.runtime.clock).get(
        who, made.id
    )
    assert kept.workflow.actions[0].config["team"] == "Sales"

    assert await original.sync() == 2  # both restored
    assert (await original.get(who, REMOVED)).deleted_at is None
