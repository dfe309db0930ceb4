"""Decoding a response's ``Content-Encoding`` with a bound on the decoded size.

httpx decodes each read whole: 64 KiB of a gzip bomb becomes 64 MiB before any size check. Here
raw bytes are inflated with ``zlib.decompressobj(...).decompress(data, max_length)``, so no more
than the caller's limit is ever produced.
"""

from __future__ import annotations

import zlib
from typing import Any

from beez.executor.actions.base import PermanentError, TransientError

__all__ = ["ACCEPT_ENCODING", "BoundedDecoder"]

ACCEPT_ENCODING = "gzip, deflate"
"""What outgoing requests accept: only the encodings :class:`BoundedDecoder` decodes."""


class BoundedDecoder:
    """Decodes a ``Content-Encoding`` (identity, gzip, deflate) a chunk at a time, never producing
    more than it is asked for: input that would decode past the bound is left undecoded."""

    def __init__(self, encoding: str, where: str) -> None:
        codings = [
            c.strip().lower() for c in encoding.split(",") if c.strip().lower() not in ("", "identity")
        ]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise PermanentError(
                f"{where} answered with an unsupported Content-Encoding {encoding!r}",
                category="invalid_response",
            )
        self.coding = codings[0] if codings else None
        self.where = where
        self._inflate: Any = None
        if self.coding in ("gzip", "x-gzip"):
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes, max_out: int) -> tuple[bytes, bool]:
        """Up to ``max_out`` decoded bytes of ``data``, and whether input was left undecoded."""
        if self.coding is None:
            return data, False
        if self._inflate is None:  # deflate: zlib-wrapped, or raw as some servers send it
            self._inflate = zlib.decompressobj()
            try:
                out = self._inflate.decompress(data, max_out)
            except zlib.error:
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            else:
                return out, bool(self._inflate.unconsumed_tail)
        try:
            out = self._inflate.decompress(data, max_out)
        except zlib.error as exc:
            raise TransientError(
                f"the answer of {self.where} does not decode as {self.coding}", category="connection"
            ) from exc
        return out, bool(self._inflate.unconsumed_tail)

    def flush(self, max_out: int) -> bytes:
        if self._inflate is None:
            return b""
        out: bytes = self._inflate.flush()
        return out[:max_out]
