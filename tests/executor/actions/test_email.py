"""send_email against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from beez.executor.actions import ActionSettings, EmailTemplate, PermanentError, TransientError
from beez.executor.actions.email import SendEmail, message_id_for
from beez.workflow.senders import SenderPolicy
from tests.executor.actions.conftest import SmtpServer, ada, free_port, make_ctx


def mailer(smtp: SmtpServer, **overrides: Any) -> SendEmail:
    values: dict[str, Any] = {
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_timeout_s": 2.0,
        "default_from": "Beez <hello@beez.example>",
        "email_templates": {
            "welcome": EmailTemplate(
                subject="Welcome, {{ contact.first_name }}", body="Hi {{ contact.first_name }}!"
            ),
            "broken": EmailTemplate(subject="x", body="{{ contact.first_name.nope() }}"),
        },
    }
    values.update(overrides)
    return SendEmail(ActionSettings(**values))


def received(smtp: SmtpServer, index: int = -1) -> EmailMessage:
    envelope = smtp.mailbox.envelopes[index]
    return message_from_bytes(envelope.original_content or b"", policy=policy.default)


async def test_email_is_delivered_with_subject_body_and_idempotency_headers(smtp: SmtpServer) -> None:
    ctx = make_ctx(
        {"subject": "Welcome Ada!", "body": "Your onboarding starts here.", "reply_to": "help@beez.example"}
    )
    result = await mailer(smtp).run(ctx)

    assert result.status == "succeeded"
    envelope = smtp.mailbox.envelopes[-1]
    assert envelope.mail_from == "hello@beez.example"
    assert envelope.rcpt_tos == ["ada@example.com"]
    message = received(smtp)
    assert message["Subject"] == "Welcome Ada!"
    assert message["To"] == "ada@example.com"
    assert message["From"] == "Beez <hello@beez.example>"
    assert message["Reply-To"] == "help@beez.example"
    assert message["X-Beez-Idempotency-Key"] == "exec:ex_1:step:0:attempt:1"
    assert message["Message-ID"] == message_id_for("exec:ex_1:step:0:attempt:1", "beez.example")
    assert message.get_content().strip() == "Your onboarding starts here."
    assert result.output["message_id"] == message["Message-ID"]
    assert result.output["to"] == "ada@example.com"
    assert result.output["smtp_response"].startswith("2.0.0 queued")


async def test_the_same_attempt_sent_twice_carries_the_same_message_id(smtp: SmtpServer) -> None:
    action = mailer(smtp)
    await action.run(make_ctx({"subject": "s", "body": "b"}, attempt=2))
    await action.run(make_ctx({"subject": "s", "body": "b"}, attempt=2))  # redelivered after a crash
    await action.run(make_ctx({"subject": "s", "body": "b"}, attempt=3))

    ids = [received(smtp, i)["Message-ID"] for i in range(3)]
    assert ids[0] == ids[1] != ids[2]


async def test_stored_template_is_rendered_and_the_step_subject_overrides_it(smtp: SmtpServer) -> None:
    action = mailer(smtp)
    await action.run(make_ctx({"template": "welcome"}))
    message = received(smtp)
    assert message["Subject"] == "Welcome, Ada"
    assert message.get_content().strip() == "Hi Ada!"

    await action.run(make_ctx({"template": "welcome", "subject": "Welcome Ada!"}))
    assert received(smtp)["Subject"] == "Welcome Ada!"


async def test_unknown_or_failing_template_is_permanent(smtp: SmtpServer) -> None:
    with pytest.raises(PermanentError) as unknown:
        await mailer(smtp).run(make_ctx({"template": "nope"}))
    assert unknown.value.category == "unknown_template"
    with pytest.raises(PermanentError) as broken:
        await mailer(smtp).run(make_ctx({"template": "broken"}))
    assert broken.value.category == "template"
    assert smtp.mailbox.envelopes == []


async def test_no_email_consent_is_skipped_and_the_server_receives_nothing(smtp: SmtpServer) -> None:
    contact = ada(consent={"email": False, "sms": True, "whatsapp": True})
    result = await mailer(smtp).run(make_ctx({"subject": "s", "body": "b"}, contact=contact))
    assert (result.status, result.reason) == ("skipped", "no email consent")

    explicit_to = make_ctx({"subject": "s", "body": "b", "to": "other@example.com"}, contact=contact)
    assert (await mailer(smtp).run(explicit_to)).status == "skipped"

    no_consent_at_all = make_ctx(
        {"subject": "s", "body": "b"}, contact={"id": "c_9", "email": "x@example.com"}
    )
    assert (await mailer(smtp).run(no_consent_at_all)).reason == "no email consent"
    assert smtp.mailbox.envelopes == []


async def test_a_contact_without_an_address_is_skipped(smtp: SmtpServer) -> None:
    result = await mailer(smtp).run(make_ctx({"subject": "s", "body": "b"}, contact=ada(email="")))
    assert (result.status, result.reason) == ("skipped", "contact has no email address")
    assert smtp.mailbox.envelopes == []


async def test_an_explicit_to_that_is_not_an_address_is_permanent(smtp: SmtpServer) -> None:
    for to in ("not-an-address", "", "a@b.com\r\nBcc: evil@example.com"):
        with pytest.raises(PermanentError) as failure:
            await mailer(smtp).run(make_ctx({"subject": "s", "body": "b", "to": to}))
        assert failure.value.category == "invalid_recipient"
    assert smtp.mailbox.envelopes == []


async def test_an_explicit_to_goes_to_that_address(smtp: SmtpServer) -> None:
    await mailer(smtp).run(make_ctx({"subject": "s", "body": "b", "to": "Grace <grace@example.com>"}))
    assert smtp.mailbox.envelopes[-1].rcpt_tos == ["grace@example.com"]
    assert received(smtp)["To"] == "Grace <grace@example.com>"


async def test_a_subject_with_line_breaks_cannot_inject_headers(smtp: SmtpServer) -> None:
    await mailer(smtp).run(make_ctx({"subject": "Hi\r\nBcc: evil@example.com", "body": "b"}))
    message = received(smtp)
    assert message["Bcc"] is None
    assert message["Subject"] == "Hi Bcc: evil@example.com"


async def test_smtp_4xx_is_transient(smtp: SmtpServer) -> None:
    smtp.mailbox.rcpt_reply = "451 4.7.1 greylisted, try again later"
    with pytest.raises(TransientError) as failure:
        await mailer(smtp).run(make_ctx({"subject": "s", "body": "b"}))
    assert failure.value.category == "smtp_4xx"


async def test_smtp_5xx_is_permanent(smtp: SmtpServer) -> None:
    smtp.mailbox.rcpt_reply = "550 5.1.1 no such user"
    with pytest.raises(PermanentError) as failure:
        await mailer(smtp).run(make_ctx({"subject": "s", "body": "b"}))
    assert failure.value.category == "smtp_5xx"
    assert "550" in str(failure.value)


async def test_an_smtp_server_that_refuses_connections_is_transient() -> None:
    action = SendEmail(
        ActionSettings(smtp_host="127.0.0.1", smtp_port=free_port(), default_from="a@beez.example")
    )
    with pytest.raises(TransientError) as failure:
        await action.run(make_ctx({"subject": "s", "body": "b"}))
    assert failure.value.category == "connection"


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """Accepts connections and never says a word."""
    writers: list[asyncio.StreamWriter] = []

    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    yield int(server.sockets[0].getsockname()[1])
    for writer in writers:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_an_smtp_server_that_never_answers_times_out_transiently(silent_server: int) -> None:
    settings = ActionSettings(
        smtp_host="127.0.0.1", smtp_port=silent_server, smtp_timeout_s=0.3, default_from="a@beez.example"
    )
    with pytest.raises(TransientError) as failure:
        await SendEmail(settings).run(make_ctx({"subject": "s", "body": "b"}))
    assert failure.value.category == "timeout"


async def test_missing_smtp_settings_are_permanent() -> None:
    with pytest.raises(PermanentError) as no_host:
        await SendEmail(ActionSettings(default_from="a@beez.example")).run(
            make_ctx({"subject": "s", "body": "b"})
        )
    assert no_host.value.category == "not_configured"
    with pytest.raises(PermanentError) as no_from:
        await SendEmail(ActionSettings(smtp_host="127.0.0.1")).run(make_ctx({"subject": "s", "body": "b"}))
    assert no_from.value.category == "not_configured"


async def test_from_must_be_a_verified_sender_of_the_organization_at_send_time(smtp: SmtpServer) -> None:
    """Validation refuses an unverified ``from``; the send checks again (a workflow saved before
    the rule, or a sender removed since), as a permanent failure that sends nothing."""
    settings = ActionSettings(
        smtp_host=smtp.host, smtp_port=smtp.port, smtp_timeout_s=2.0, default_from="hello@beez.example"
    )
    senders = SenderPolicy(settings.default_from, {"org_1": ["@acme.com"]})
    before = len(smtp.mailbox.envelopes)
    for sender in ("ceo@bank.example", "{{ contact.email }}", "ada@example.com"):
        with pytest.raises(PermanentError) as refused:
            await SendEmail(settings, senders).run(make_ctx({"subject": "s", "body": "b", "from": sender}))
        assert refused.value.category in ("unverified_sender", "not_configured"), sender
    with pytest.raises(PermanentError) as unverified:
        await SendEmail(settings).run(make_ctx({"subject": "s", "body": "b", "from": "news@acme.com"}))
    assert unverified.value.category == "unverified_sender"  # without the policy: the default only
    assert len(smtp.mailbox.envelopes) == before

    await SendEmail(settings, senders).run(
        make_ctx({"subject": "s", "body": "b", "from": "Acme <news@acme.com>"})
    )
    assert smtp.mailbox.envelopes[-1].mail_from == "news@acme.com"
