"""SMTP credentials only ever travel over TLS (real aiosmtpd servers on 127.0.0.1, with and without
STARTTLS, both accepting AUTH on a plaintext connection, as a careless or hostile server would)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr, ValidationError

from beez.executor.actions import ActionSettings, PermanentError
from beez.executor.actions.email import SendEmail
from tests.executor.actions.conftest import Mailbox, free_port, make_ctx
from tests.support.certs import ServerCerts, server_certs


class Gatekeeper:
    """Records every AUTH attempt, and whether the connection was encrypted when it came."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, bool]] = []

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.attempts.append((auth_data.password.decode(), session.ssl is not None))
        return AuthResult(success=True)


def serve(certs: ServerCerts | None) -> tuple[Controller, Mailbox, Gatekeeper, int]:
    mailbox, gatekeeper, port = Mailbox(), Gatekeeper(), free_port()
    tls: ssl.SSLContext | None = None
    if certs is not None:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(certs.cert_file, certs.key_file)
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=gatekeeper,
        auth_require_tls=False,
        tls_context=tls,
        require_starttls=False,
    )
    controller.start()
    return controller, mailbox, gatekeeper, port


@pytest.fixture
def certs(tmp_path: Path) -> ServerCerts:
    return server_certs(tmp_path / "smtp")


@pytest.fixture
def plaintext_server() -> Iterator[tuple[Mailbox, Gatekeeper, int]]:
    controller, mailbox, gatekeeper, port = serve(None)
    yield mailbox, gatekeeper, port
    controller.stop()


@pytest.fixture
def starttls_server(certs: ServerCerts) -> Iterator[tuple[Mailbox, Gatekeeper, int]]:
    controller, mailbox, gatekeeper, port = serve(certs)
    yield mailbox, gatekeeper, port
    controller.stop()


def mailer(port: int, **overrides: Any) -> SendEmail:
    values: dict[str, Any] = {
        "smtp_host": "localhost",
        "smtp_port": port,
        "smtp_timeout_s": 2.0,
        "smtp_username": "beez",
        "smtp_password": SecretStr("hunter2-smtp"),
        "default_from": "hello@beez.example",
    }
    values.update(overrides)
    return SendEmail(ActionSettings(**values))


async def test_with_a_username_and_no_starttls_nothing_is_sent_and_the_step_says_why(
    plaintext_server: tuple[Mailbox, Gatekeeper, int],
) -> None:
    mailbox, gatekeeper, port = plaintext_server
    with pytest.raises(PermanentError) as failure:
        await mailer(port).run(make_ctx({"subject": "s", "body": "b"}))
    assert failure.value.category == "smtp_tls_required"
    assert "offers no STARTTLS" in str(failure.value) and "never sent unencrypted" in str(failure.value)
    assert "hunter2-smtp" not in str(failure.value)
    assert gatekeeper.attempts == []  # the password never went out
    assert mailbox.envelopes == []


async def test_even_with_starttls_left_to_chance_the_username_makes_it_required(
    plaintext_server: tuple[Mailbox, Gatekeeper, int],
) -> None:
    _, gatekeeper, port = plaintext_server
    with pytest.raises(PermanentError):
        await mailer(port, smtp_start_tls=None).run(make_ctx({"subject": "s", "body": "b"}))
    assert gatekeeper.attempts == []


async def test_with_starttls_the_credentials_go_over_the_encrypted_connection(
    starttls_server: tuple[Mailbox, Gatekeeper, int], certs: ServerCerts
) -> None:
    mailbox, gatekeeper, port = starttls_server
    result = await mailer(port, smtp_ca_file=str(certs.ca_file)).run(make_ctx({"subject": "s", "body": "b"}))
    assert result.status == "succeeded"
    assert gatekeeper.attempts == [("hunter2-smtp", True)]
    assert len(mailbox.envelopes) == 1


async def test_without_a_username_plaintext_delivery_still_works(
    plaintext_server: tuple[Mailbox, Gatekeeper, int],
) -> None:
    mailbox, gatekeeper, port = plaintext_server
    await mailer(port, smtp_username="", smtp_password=SecretStr("")).run(
        make_ctx({"subject": "s", "body": "b"})
    )
    assert len(mailbox.envelopes) == 1 and gatekeeper.attempts == []


def test_a_username_with_starttls_turned_off_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="SMTP credentials are only sent over TLS"):
        ActionSettings(smtp_host="mail", smtp_username="beez", smtp_start_tls=False)
    ActionSettings(smtp_host="mail", smtp_username="beez", smtp_start_tls=False, smtp_use_tls=True)
