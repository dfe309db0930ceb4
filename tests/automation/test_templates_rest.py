"""The template library's endpoints through the REST gateway, on the real automation service.

Every test works in organizations of its own (the module shares one service and database), so
counts that grow (views, uses, ratings) are compared before and after, never absolutely.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from beez.automation.library.loader import load_library
from beez.gateway import create_app
from beez.gateway.authn import LocalHeaders
from beez.gateway.contracts import load_service_descriptors
from tests.automation.conftest import AutomationEnv

API = "/api/automations"
T = f"{API}/templates"
LIBRARY = load_library()
HOT_LEAD = "hot-lead-alert"

HttpClient = TestClient[web.Request, web.Application]


@pytest.fixture(scope="module")
async def http(env: AutomationEnv) -> AsyncIterator[HttpClient]:
    app = create_app(lambda _: env.svc.channel, load_service_descriptors(), auth=LocalHeaders())
    async with TestClient(TestServer(app)) as client:
        yield client


def org() -> dict[str, str]:
    return {"X-Org-Id": f"org_{uuid.uuid4().hex[:10]}", "X-User-Id": "u_1"}


async def ok(http: HttpClient, method: str, path: str, who: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    response = await http.request(method, path, headers=who, **kwargs)
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def violations(
    http: HttpClient, method: str, path: str, who: dict[str, str], **kwargs: Any
) -> list[str]:
    response = await http.request(method, path, headers=who, **kwargs)
    assert response.status == 400, await response.text()
    details = (await response.json())["details"]
    return [v["field"] for d in details for v in d.get("fieldViolations", [])]


async def test_list_answers_every_built_in_with_filters_and_pages(http: HttpClient) -> None:
    who = org()
    listed: list[dict[str, Any]] = []
    token = ""
    while True:  # pages of at most 200 (the library is larger)
        page = await ok(http, "GET", T, who, params={"page_size": "200", "page_token": token})
        listed += page["templates"]
        assert page["totalSize"] == len(LIBRARY.templates)
        token = page.get("nextPageToken", "")
        if not token:
            break
    assert sorted(t["id"] for t in listed) == sorted(LIBRARY.templates)
    sales = await ok(http, "GET", T, who, params={"category": "sales", "integration": "slack"})
    assert sales["templates"] and {t["category"] for t in sales["templates"]} == {"sales"}
    assert all("slack" in t["integrations"] for t in sales["templates"])
    first = await ok(http, "GET", T, who, params={"page_size": "2", "sort": "TEMPLATE_SORT_NEWEST"})
    second = await ok(
        http,
        "GET",
        T,
        who,
        params={"page_size": "2", "sort": "TEMPLATE_SORT_NEWEST", "page_token": first["nextPageToken"]},
    )
    assert not {t["id"] for t in first["templates"]} & {t["id"] for t in second["templates"]}
    assert await violations(http, "GET", T, who, params={"category": "gardening", "difficulty": "x"}) == [
        "category",
        "difficulty",
    ]
    other_filters = {"page_size": "2", "category": "sales", "page_token": first["nextPageToken"]}
    assert await violations(http, "GET", T, who, params=other_filters) == ["page_token"]


async def test_get_shows_the_full_configuration_and_counts_a_view(http: HttpClient) -> None:
    who = org()
    before = (await ok(http, "GET", f"{T}/{HOT_LEAD}", who))["template"]
    after = (await ok(http, "GET", f"{T}/{HOT_LEAD}", who))["template"]
    assert int(after["viewCount"]) == int(before["viewCount"]) + 1
    assert after["workflow"]["trigger"]["type"] == "score_changed"
    assert after["customizable"][0]["path"] == "trigger.config.threshold"
    assert after["customizable"][0]["defaultValue"] == 80
    assert after["sample"]["event"]["type"] == "score.changed"
    missing = await http.get(f"{T}/no-such-template", headers=who)
    assert missing.status == 404


async def test_categories_count_their_templates(http: HttpClient) -> None:
    categories = (await ok(http, "GET", f"{T}/categories", org()))["categories"]
    assert [c["slug"] for c in categories] == [
        "sales",
        "support",
        "ecommerce",
        "retention",
        "marketing",
        "operations",
    ]
    per = {c["slug"]: c["count"] for c in categories}
    for slug, count in per.items():
        assert count == sum(1 for t in LIBRARY.templates.values() if t.category == slug)
    sales = categories[0]
    assert sum(s["count"] for s in sales["subcategories"]) == sales["count"]


async def test_search_ranks_by_words_prefixes_and_typos(http: HttpClient) -> None:
    who = org()
    for query in ("hot lead", "hot lead scor", "hott leed"):
        results = (await ok(http, "GET", f"{T}/search", who, params={"query": query}))["results"]
        assert HOT_LEAD in [r["template"]["id"] for r in results[:5]], query
    assert await violations(http, "GET", f"{T}/search", who) == ["query"]


async def test_preview_renders_the_callers_own_data_and_stores_nothing(http: HttpClient) -> None:
    who = org()
    event = {
        "type": "score.changed",
        "data": {"old_score": 10, "new_score": 95},
        "contact": {"id": "c_9", "firstName": "Zainab", "email": "z@example.com", "consent": {"email": True}},
    }
    body = {"event": event, "overrides": {"trigger.config.threshold": 90}}
    preview = await ok(http, "POST", f"{T}/{HOT_LEAD}/preview", who, json=body)
    assert preview["wouldStart"] is True
    email = next(s for s in preview["steps"] if s["type"] == "send_email")
    assert email["detail"]["config"]["subject"].startswith("Zainab,")
    assert preview["workflow"]["trigger"]["config"]["threshold"] == 90
    own = await ok(http, "POST", f"{T}/{HOT_LEAD}/preview", who, json={})
    assert own["wouldStart"] is True
    listed = await ok(http, "GET", API, who)
    assert not listed.get("automations")


async def test_activate_creates_an_active_automation_and_counts_a_use(http: HttpClient) -> None:
    who = org()
    made = (await ok(http, "POST", f"{T}/{HOT_LEAD}/activate", who, json={}))["automation"]
    assert made["active"] is True
    assert made["workflow"]["trigger"]["config"]["threshold"] == 80
    fetched = await ok(http, "GET", f"{API}/{made['id']}", who)
    assert fetched["automation"]["workflow"]["name"] == LIBRARY.templates[HOT_LEAD].workflow["name"]
    inactive = await ok(
        http, "POST", f"{T}/{HOT_LEAD}/activate", who, json={"inactive": True, "name": "Mine"}
    )
    assert inactive["automation"]["active"] is False and inactive["automation"]["workflow"]["name"] == "Mine"
    featured = await ok(http, "GET", f"{T}/featured", who)
    assert HOT_LEAD in [t["id"] for t in featured["mostUsed"]]
    assert all(t["featured"] for t in featured["curated"])


async def test_customize_applies_overrides_and_names_the_bad_ones(http: HttpClient) -> None:
    who = org()
    body = {"overrides": {"trigger.config.threshold": 65, "actions[0].config.team": "Inside Sales"}}
    made = (await ok(http, "POST", f"{T}/{HOT_LEAD}/customize", who, json=body))["automation"]
    assert made["workflow"]["trigger"]["config"]["threshold"] == 65
    assert made["workflow"]["actions"][0]["config"]["team"] == "Inside Sales"
    bad = {"overrides": {"trigger.config.threshold": "high", "actions[9].config.subject": "x"}}
    assert sorted(await violations(http, "POST", f"{T}/{HOT_LEAD}/customize", who, json=bad)) == [
        "overrides[actions[9].config.subject]",
        "overrides[trigger.config.threshold]",
    ]
    broken = {"overrides": {"actions[3].config.subject": "Hi {{ contact.first_name "}}
    assert await violations(http, "POST", f"{T}/{HOT_LEAD}/customize", who, json=broken) == [
        "overrides[actions[3].config.subject]"
    ]
    made = (await ok(http, "POST", f"{API}/from-template/{HOT_LEAD}", who, json={"active": False}))[
        "automation"
    ]
    assert made["active"] is False


async def test_ratings_are_one_per_organization_and_updatable(http: HttpClient) -> None:
    first, second = org(), org()
    base = (await ok(http, "GET", f"{T}/{HOT_LEAD}", first))["template"]
    count = int(base.get("ratingCount", 0))
    await ok(http, "POST", f"{T}/{HOT_LEAD}/rate", first, json={"rating": 2})
    again = await ok(
        http, "POST", f"{T}/{HOT_LEAD}/rate", first, json={"rating": 4, "review": "Saved us an hour"}
    )
    assert int(again["count"]) == count + 1
    both = await ok(http, "POST", f"{T}/{HOT_LEAD}/rate", second, json={"rating": 5})
    assert int(both["count"]) == count + 2
    assert await violations(http, "POST", f"{T}/{HOT_LEAD}/rate", first, json={"rating": 6}) == ["rating"]


async def test_similar_and_recommendations_explain_themselves(http: HttpClient) -> None:
    who = org()
    similar = (await ok(http, "GET", f"{T}/{HOT_LEAD}/similar", who))["templates"]
    assert similar and HOT_LEAD not in [s["template"]["id"] for s in similar]
    assert all(s["reason"] and s["score"] > 0 for s in similar)
    recommended = (await ok(http, "GET", f"{T}/recommendations", who))["templates"]
    assert recommended and all(r["reason"].startswith("no ") for r in recommended)
    welcome = [r for r in recommended if r["reason"] == "no welcome series for new contacts"]
    assert welcome
    await ok(http, "POST", f"{T}/{welcome[0]['template']['id']}/activate", who, json={"inactive": True})
    after = (await ok(http, "GET", f"{T}/recommendations", who))["templates"]
    assert "no welcome series for new contacts" not in [r["reason"] for r in after]


async def test_personal_templates_are_visible_only_to_their_organization(http: HttpClient) -> None:
    owner, stranger = org(), org()
    made = (await ok(http, "POST", f"{T}/{HOT_LEAD}/activate", owner, json={"inactive": True}))["automation"]
    body = {"name": "Our hot lead play", "category": "sales", "subcategory": "lead_scoring", "tags": ["Ours"]}
    saved = (await ok(http, "POST", f"{API}/{made['id']}/save-as-template", owner, json=body))["template"]
    assert saved["personal"] is True and saved["tags"] == ["ours"]
    assert (await http.get(f"{T}/{saved['id']}", headers=stranger)).status == 404
    assert (await http.post(f"{T}/{saved['id']}/rate", headers=stranger, json={"rating": 1})).status == 404
    mine = await ok(http, "GET", T, owner, params={"category": "sales", "page_size": "500"})
    theirs = await ok(http, "GET", T, stranger, params={"category": "sales", "page_size": "500"})
    assert saved["id"] in {t["id"] for t in mine["templates"]} - {t["id"] for t in theirs["templates"]}
    again = (await ok(http, "POST", f"{T}/{saved['id']}/activate", owner, json={}))["automation"]
    assert again["workflow"]["trigger"]["type"] == "score_changed"
    assert (
        await http.post(f"{API}/{made['id']}/save-as-template", headers=stranger, json=body)
    ).status == 404
    assert await violations(
        http, "POST", f"{API}/{made['id']}/save-as-template", owner, json={"category": "x"}
    ) == ["category"]
