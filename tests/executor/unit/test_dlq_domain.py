"""What GetDeadLetter shows of a payload (decision 0029): masked, decoded, and bounded."""

from __future__ import annotations

import json

from beez.api.messages.v1 import jobs_pb2
from beez.executor.dlq.domain import PAYLOAD_SHOWN, shown_payload
from beez.kit.bus.headers import CONTENT_TYPE, PROTOBUF_CONTENT_TYPE

JOB = {CONTENT_TYPE: f"{PROTOBUF_CONTENT_TYPE}; type=beez.api.messages.v1.Job"}


def test_a_large_protobuf_payload_is_shown_cut_far_below_the_grpc_message_limit() -> None:
    job = jobs_pb2.Job(execution_id="é" * 400_000)  # 800 KB on the wire, 2.4 MB as escaped JSON
    payload = job.SerializeToString()
    shown = shown_payload(payload, JOB)
    assert shown.startswith("{")
    assert len(shown) < PAYLOAD_SHOWN + 100
    assert shown.endswith(f"(cut; the payload has {len(payload)} bytes)")


def test_a_text_payload_cut_inside_a_character_is_still_text() -> None:
    text = "a" * (PAYLOAD_SHOWN - 1) + "é" * 10  # the cut falls between the two bytes of an é
    shown = shown_payload(text.encode(), {})
    assert shown.startswith("aaa") and shown.endswith("...")
    assert "not text" not in shown


def test_a_small_json_payload_is_shown_whole_and_masked() -> None:
    shown = shown_payload(json.dumps({"email": "ada@example.com", "n": 7}).encode(), {})
    assert "ada@example.com" not in shown and json.loads(shown)["n"] == 7
