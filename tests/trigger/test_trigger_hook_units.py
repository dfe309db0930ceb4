"""The pure parts of inbound webhooks: tokens, signatures, contact id paths, payloads, event ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from beez.trigger.domain import hooks

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
T = int(NOW.timestamp())


def test_a_token_names_its_organization_and_only_its_hash_is_kept() -> None:
    token = hooks.new_token("org_1")
    assert hooks.token_org(token) == "org_1"
    assert hooks.token_hash(token) != hooks.token_hash(hooks.new_token("org_1"))
    assert len(hooks.token_hash(token)) == 64 and token not in hooks.token_hash(token)
    assert hooks.token_prefix(token) == token[: len("org_1") + 5]
    for bad in ("", "org_1", "org_1.", ".abc", "org 1." + "a" * 43, "org_1." + "a" * 42, "org_1." + "!" * 43):
        assert hooks.token_org(bad) is None, bad


def test_a_signature_is_checked_in_full_and_in_time() -> None:
    body = b'{"a": 1}'
    good = hooks.signature_header("s3cret", T, body)
    hooks.verify_signature(good, "s3cret", body, NOW, 300)
    hooks.verify_signature(
        f"t={T},v1={'0' * 64},v1={hooks.sign('s3cret', T, body)}", "s3cret", body, NOW, 300
    )
    cases = {
        "": "missing",
        "v1=abc": "malformed",
        f"t={T}": "malformed",
        hooks.signature_header("other", T, body): "does not match",
        hooks.signature_header("s3cret", T - 301, body): "away from now",
        hooks.signature_header("s3cret", T + 301, body): "away from now",
    }
    for header, reason in cases.items():
        with pytest.raises(hooks.SignatureError, match=reason) as raised:
            hooks.verify_signature(header, "s3cret", body, NOW, 300)
        assert "s3cret" not in str(raised.value)
    with pytest.raises(hooks.SignatureError, match="does not match"):
        hooks.verify_signature(good, "s3cret", b'{"a": 2}', NOW, 300)


def test_contact_id_paths_are_checked_and_followed() -> None:
    assert hooks.contact_path_problem("data.customer.id") is None
    assert hooks.contact_path_problem("") is None
    for bad in ("data..id", ".id", "data. id", "a" * 201, ".".join(["a"] * 17)):
        assert hooks.contact_path_problem(bad), bad
    payload = {"data": {"customer": {"id": "c_1", "n": 42, "f": 4.5, "b": True, "o": {}}}, "l": [{"id": 7}]}
    assert hooks.contact_id_at(payload, "data.customer.id") == "c_1"
    assert hooks.contact_id_at(payload, "data.customer.n") == "42"
    assert hooks.contact_id_at(payload, "l.0.id") == "7"
    for empty in ("data.customer.f", "data.customer.b", "data.customer.o", "data.missing", "l.3.id", ""):
        assert hooks.contact_id_at(payload, empty) == "", empty


def test_payloads_are_json_or_forms() -> None:
    assert hooks.parse_payload(b'[1, "a"]', "application/json") == [1, "a"]
    assert hooks.parse_payload(b"", "") == {}
    assert hooks.parse_payload(b"a=1&a=2&b=", "application/x-www-form-urlencoded; charset=utf-8") == {
        "a": "2",
        "b": "",
    }
    for body in (b"{nope", b"\xff\xfe"):
        with pytest.raises(hooks.PayloadError):
            hooks.parse_payload(body, "application/json")


def test_the_event_id_of_a_keyed_delivery_is_the_same_for_the_same_hook_and_key() -> None:
    first = hooks.delivery_event_id("hook_a", "k1")
    assert first == hooks.delivery_event_id("hook_a", "k1")
    assert first != hooks.delivery_event_id("hook_b", "k1") != hooks.delivery_event_id("hook_a", "k2")
    assert first.startswith("hook_") and len(first) == 45
    assert hooks.idempotency_problem("abc-123") is None
    assert hooks.idempotency_problem("has space") and hooks.idempotency_problem("x" * 201)
