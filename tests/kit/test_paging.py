"""Page requests and page tokens: defaults and caps, round trips, and refusals naming the field."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from beez.kit.grpc.errors import InvalidArgument
from beez.kit.paging import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    BadPageToken,
    PageLimits,
    PageRequest,
    cut_page,
    decode_key,
    decode_moment_key,
    encode_token,
    read_page,
    scope_of,
)

NOW = datetime(2026, 3, 4, 5, 6, 7, 890_123, tzinfo=UTC)


def _violations(exc: InvalidArgument) -> list[tuple[str, str]]:
    return [(v.field, v.description) for v in exc.violations]


def test_a_moment_key_cursor_round_trips() -> None:
    assert decode_moment_key(encode_token((NOW, "evt_1"))) == (NOW, "evt_1")


def test_a_key_cursor_round_trips_with_its_scope() -> None:
    scope = scope_of(True, "", "Welcome")
    assert decode_key(encode_token(("0193-a",), scope), scope) == "0193-a"


def test_a_token_is_refused_with_other_filters() -> None:
    token = encode_token(("0193-a",), scope_of(True, "", ""))
    with pytest.raises(BadPageToken, match="other filters"):
        decode_key(token, scope_of(False, "", ""))
    with pytest.raises(BadPageToken, match="other filters"):
        decode_key(token)


@pytest.mark.parametrize(
    "token",
    [
        "not a token!",
        base64.urlsafe_b64encode(b'{"x":1}').decode().rstrip("="),
        base64.urlsafe_b64encode(b"[1,2]").decode(),
        encode_token(("a", "b")),  # two values where one is expected
    ],
)
def test_a_key_decoder_refuses_what_it_did_not_make(token: str) -> None:
    with pytest.raises(BadPageToken, match="not a page token"):
        decode_key(token)


@pytest.mark.parametrize(
    "token",
    [
        encode_token(("evt_1",)),
        encode_token(("yesterday", "evt_1")),
        encode_token((NOW.replace(tzinfo=None), "evt_1")),  # a naive time was never issued
    ],
)
def test_a_moment_key_decoder_refuses_what_it_did_not_make(token: str) -> None:
    with pytest.raises(BadPageToken):
        decode_moment_key(token)


def test_read_page_defaults_caps_and_decodes() -> None:
    assert read_page(0, "", default=50, maximum=200, decode=decode_key) == PageRequest(50, None)
    assert read_page(7, "", default=50, maximum=200, decode=decode_key) == PageRequest(7, None)
    assert read_page(10_000, "", default=50, maximum=200, decode=decode_key).size == 200
    token = encode_token((NOW, "ex_1"))
    assert read_page(2, token, default=50, maximum=200, decode=decode_moment_key).after == (NOW, "ex_1")


def test_read_page_names_every_bad_field() -> None:
    with pytest.raises(InvalidArgument) as caught:
        read_page(-1, "%%", default=50, maximum=200, decode=decode_moment_key)
    assert [field for field, _ in _violations(caught.value)] == ["page_size", "page_token"]


def test_cut_page_gives_a_token_only_when_rows_remain() -> None:
    rows = [(NOW, f"r{i}") for i in range(3)]
    page, token = cut_page(rows, 2, lambda row: row)
    assert page == rows[:2]
    assert decode_moment_key(token) == rows[1]
    assert cut_page(rows, 3, lambda row: row) == (rows, "")
    assert cut_page([], 3, lambda row: row) == ([], "")


def test_read_page_uses_the_kit_wide_sizes_unless_a_list_sets_its_own() -> None:
    assert read_page(0, "", decode=decode_key).size == DEFAULT_PAGE_SIZE == 50
    assert read_page(10_000, "", decode=decode_key).size == MAX_PAGE_SIZE == 200
    limits = PageLimits(default=10, maximum=20)
    assert read_page(0, "", decode=decode_key, default=limits.default, maximum=limits.maximum).size == 10
