"""What a test asserts about a failed RPC: the error itself, and the fields its violations name."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status


async def rpc_error(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    """The error ``call`` fails with; the test fails when it succeeds."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


def violations(error: grpc.aio.AioRpcError) -> list[str]:
    """The fields named by the BadRequest field violations in ``error``'s status details."""
    status = rpc_status.from_call(error)
    assert status is not None
    fields: list[str] = []
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            fields.extend(v.field for v in bad.field_violations)
    return fields
