"""UUIDv7 ids: version and variant bits, time order, and strict order within a process."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from unittest import mock

import pytest

from beez.kit import ids
from beez.kit.ids import new_hex_id, new_id, uuid7


@pytest.fixture(autouse=True)
def _restore_the_generator() -> Iterator[None]:
    """Tests that move the clock leave no future millisecond behind for later ids."""
    saved = ids._last_ms, ids._counter
    yield
    ids._last_ms, ids._counter = saved


def test_an_id_is_a_version_7_rfc_uuid_stamped_with_the_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    value = uuid7()
    after = time.time_ns() // 1_000_000
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert before <= value.int >> 80 <= after + 1


def test_ids_made_in_one_millisecond_still_increase_strictly() -> None:
    future_ms = time.time_ns() // 1_000_000 + 3_600_000  # ahead of every id made so far
    with mock.patch("time.time_ns", return_value=future_ms * 1_000_000):
        made = [uuid7() for _ in range(5_000)]  # past the 4,096 one millisecond holds
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert made[0].int >> 80 == future_ms
    assert made[-1].int >> 80 == future_ms + 1  # borrowed the next millisecond


def test_ids_keep_increasing_when_the_clock_steps_back() -> None:
    first = uuid7()
    with mock.patch("time.time_ns", return_value=((first.int >> 80) - 10_000) * 1_000_000):
        later = uuid7()
    assert later > first


def test_ids_from_many_threads_are_unique_and_each_thread_sees_them_increase() -> None:
    seen: list[list[uuid.UUID]] = [[] for _ in range(4)]

    def make(into: list[uuid.UUID]) -> None:
        into.extend(uuid7() for _ in range(2_000))

    threads = [threading.Thread(target=make, args=(into,)) for into in seen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(made == sorted(made) for made in seen)
    assert len({value for made in seen for value in made}) == 8_000


def test_text_forms() -> None:
    text = new_id()
    assert str(uuid.UUID(text)) == text
    hexed = new_hex_id("evt_")
    assert hexed.startswith("evt_") and uuid.UUID(hex=hexed[4:]).version == 7
    assert new_id() > text  # canonical text sorts like the number
