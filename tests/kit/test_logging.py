from __future__ import annotations

import json
import logging

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from beez.kit.logging import configure_logging, get_logger, mask_text


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("ada@example.com", "a***@example.com"),
        ("mail ada.lovelace+x@mail.example.org now", "mail a***@mail.example.org now"),
        ("+2348012345678", "+234****5678"),
        ("call +44 20 7946 0958 today", "call +442****0958 today"),
        ("on 2026-11-26 at 10:00", "on 2026-11-26 at 10:00"),
        ("id 01a21597-3497-7233-9ea7-b9ba7d16fcef", "id 01a21597-3497-7233-9ea7-b9ba7d16fcef"),
        (
            "key exec:01a21599-0539-78fa-9a70-89cdc93e0b00:step:3",
            "key exec:01a21599-0539-78fa-9a70-89cdc93e0b00:step:3",
        ),
        ("order 1234 for 3 items", "order 1234 for 3 items"),
    ],
)
def test_mask_text_hides_emails_and_phone_numbers(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked


def test_log_lines_are_json_masked_and_carry_trace_ids(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("test", "INFO")
    provider = TracerProvider()
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        get_logger("t").info("sent", to="ada@example.com", phone="+2348012345678", nested={"e": "bob@x.io"})
        logging.getLogger("stdlib").warning("plain logger to ada@example.com")
        ctx = span.get_span_context()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    structlog.reset_defaults()
    first, second = lines[-2], lines[-1]
    assert first["event"] == "sent"
    assert first["to"] == "a***@example.com"
    assert first["phone"] == "+234****5678"
    assert first["nested"] == {"e": "b***@x.io"}
    for line in (first, second):
        assert line["trace_id"] == format(ctx.trace_id, "032x")
        assert line["span_id"] == format(ctx.span_id, "016x")
        assert line["service"] == "test"
    assert "ada@example.com" not in second["event"]
    assert trace.get_current_span().get_span_context().is_valid is False


def test_tracebacks_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    """A traceback quotes the error's message, which may carry an address or a number."""
    configure_logging("test", "INFO")
    try:
        raise ValueError("no mailbox ada@example.com at +2348012345678")
    except ValueError:
        get_logger("t").exception("send failed")
        logging.getLogger("stdlib").exception("stdlib send failed")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    structlog.reset_defaults()
    first, second = lines[-2], lines[-1]
    for line in (first, second):
        assert "ValueError: no mailbox a***@example.com at +234****5678" in line["exception"]
        assert "ada@example.com" not in json.dumps(line)
