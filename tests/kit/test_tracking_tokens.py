"""Tracking tokens (decision 0041): what the executor signs, only the gateway's keys accept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from beez.kit.tracking import (
    CLICK,
    OPEN,
    TrackingClaims,
    TrackingKeyError,
    TrackingKeys,
    hit_event_id,
)

RING = TrackingKeys.parse("k2:" + "b" * 40 + "\n# the old key, still verifying\nk1:" + "a" * 40)
OLD = TrackingKeys.parse("k1:" + "a" * 40)
OTHER = TrackingKeys.parse("k2:" + "c" * 40)
OPENED = TrackingClaims(OPEN, "org_a", "ex_1", "welcome", "c_1", "auto_1", "0", "<m@x>", "spring", "welcome")


def test_a_signed_token_gives_back_its_claims() -> None:
    token = RING.sign(OPENED)
    assert token.startswith("k2.")
    assert RING.verify(token, OPEN) == OPENED
    click = OPENED.with_url("https://shop.example/p?id=1&x=%20")
    assert RING.verify(RING.sign(click), CLICK) == click


def test_any_changed_character_makes_the_token_worthless() -> None:
    token = RING.sign(OPENED.with_url("https://shop.example/p"))
    for index, char in enumerate(token):
        changed = token[:index] + ("A" if char != "A" else "B") + token[index + 1 :]
        assert RING.verify(changed, CLICK) is None, index


def test_an_open_token_is_not_a_click_token_and_a_foreign_key_is_refused() -> None:
    token = RING.sign(OPENED)
    assert RING.verify(token, CLICK) is None
    assert OTHER.verify(token, OPEN) is None  # same key id, another secret
    assert RING.verify("", OPEN) is None
    assert RING.verify("a.b", OPEN) is None


def test_the_old_key_still_verifies_after_rotation() -> None:
    old = OLD.sign(OPENED)
    assert old.startswith("k1.")
    assert RING.verify(old, OPEN) == OPENED


def test_a_click_token_must_carry_an_http_url() -> None:
    assert RING.verify(RING.sign(OPENED.with_url("javascript:alert(1)")), CLICK) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "holds no key"),
        ("k1", "expected"),
        ("k1:short", "shorter than"),
        ("k1:" + "a" * 40 + "\nk1:" + "b" * 40, "appears twice"),
        ("bad id:" + "a" * 40, "expected"),
    ],
)
def test_a_bad_key_file_is_refused_without_quoting_a_key(text: str, problem: str) -> None:
    with pytest.raises(TrackingKeyError, match=problem) as caught:
        TrackingKeys.parse(text)
    assert "aaaa" not in str(caught.value)


def test_hits_count_once_per_bucket() -> None:
    token = RING.sign(OPENED)
    at = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert hit_event_id(token, OPEN, at) == hit_event_id(token, OPEN, at + timedelta(minutes=59))
    assert hit_event_id(token, OPEN, at) != hit_event_id(token, OPEN, at + timedelta(hours=1))
    assert hit_event_id(token, CLICK, at) != hit_event_id(token, CLICK, at + timedelta(minutes=1))
    assert hit_event_id(token, OPEN, at) != hit_event_id(RING.sign(OPENED.with_url("https://a.b")), OPEN, at)
