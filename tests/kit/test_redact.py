"""URLs lose their secrets before they are logged or printed."""

from __future__ import annotations

import pytest

from beez.kit.redact import redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("nats://127.0.0.1:4222", "nats://127.0.0.1:4222"),
        ("nats://trigger:s3cret@nats:4222", "nats://trigger:***@nats:4222"),
        ("tls://t0ken@nats:4222", "tls://***@nats:4222"),  # a NATS token alone is a secret
        ("nats://a:x@n1:4222, nats://b:y@n2:4222", "nats://a:***@n1:4222,nats://b:***@n2:4222"),
        ("postgresql+psycopg://beez:pw@db:5432/beez", "postgresql+psycopg://beez:***@db:5432/beez"),
        ("postgresql+psycopg://postgres@127.0.0.1/beez", "postgresql+psycopg://postgres@127.0.0.1/beez"),
        ("postgresql://u:p%40ss@db/x?sslmode=verify-full", "postgresql://u:***@db/x?sslmode=verify-full"),
        ("nats://:onlypassword@nats:4222", "nats://***@nats:4222"),
        ("user:pw@host-without-scheme", "***"),
        ("", ""),
    ],
)
def test_redact_url_hides_passwords_and_tokens(url: str, shown: str) -> None:
    assert redact_url(url) == shown
