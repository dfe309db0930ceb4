"""send_email's HTML body: tracked links and the open pixel (decision 0041), through real SMTP."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from beez.executor.actions import ActionSettings
from beez.executor.actions.email import SendEmail
from beez.executor.actions.settings import OrgTracking
from beez.executor.actions.tracking import rewrite_html
from beez.kit.tracking import CLICK, OPEN, TrackingKeys
from tests.executor.actions.conftest import SmtpServer, make_ctx

KEYS = TrackingKeys.parse("t1:" + "k" * 40)
BASE = "https://track.example"
HTML = """<!DOCTYPE html>
<html><head><!-- keep me --><style>a{color:red}</style></head>
<body><p>Hi &amp; welcome&nbsp;&#169;</p>
<a href="https://shop.example/sale?a=1&amp;b=2" class="cta">Shop</a>
<a href='http://blog.example/post'>Blog</a>
<a href="mailto:help@beez.example">Mail us</a>
<a href="/relative">Relative</a>
<a href="https://beez.example/unsubscribe?c=1">Unsubscribe</a>
<a href="https://beez.example/prefs" id="unsubscribe-link">Preferences</a>
<a href="https://private.example" data-beez-track="off">Private</a>
<img src="https://cdn.example/logo.png" alt="logo"/>
</body></html>"""


def mailer(smtp: SmtpServer, **overrides: Any) -> SendEmail:
    values: dict[str, Any] = {
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_timeout_s": 2.0,
        "default_from": "Beez <hello@beez.example>",
        "tracking_base_url": BASE,
        **overrides,
    }
    return SendEmail(ActionSettings(**values), tracking_keys=KEYS)


def html_part(smtp: SmtpServer) -> str:
    envelope = smtp.mailbox.envelopes[-1]
    message = message_from_bytes(envelope.original_content or b"", policy=policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def test_only_http_links_are_rewritten_and_the_rest_is_kept_byte_for_byte() -> None:
    seen: list[str] = []

    def link(url: str) -> str:
        seen.append(url)
        return f"{BASE}/t/c/{len(seen)}"

    out, count = rewrite_html(HTML, link, f"{BASE}/t/o/x")
    assert seen == ["https://shop.example/sale?a=1&b=2", "http://blog.example/post"]
    assert count == 2
    assert '<a href="https://track.example/t/c/1" class="cta">Shop</a>' in out
    assert '<a href="https://track.example/t/c/2">Blog</a>' in out
    for kept in (
        '<a href="mailto:help@beez.example">',
        '<a href="/relative">',
        '<a href="https://beez.example/unsubscribe?c=1">',
        'id="unsubscribe-link"',
        '<a href="https://private.example" data-beez-track="off">',
        '<img src="https://cdn.example/logo.png" alt="logo"/>',
        "<!-- keep me -->",
        "<!DOCTYPE html>",
        "Hi &amp; welcome&nbsp;&#169;",
        "<style>a{color:red}</style>",
    ):
        assert kept in out, kept
    assert out.index("/t/o/x") < out.index("</body>")
    assert out.count("/t/o/x") == 1


def test_a_fragment_without_body_gets_the_pixel_at_the_end() -> None:
    out, count = rewrite_html('<p><a href="https://a.example">a</a></p>', lambda url: None, f"{BASE}/t/o/y")
    assert count == 0
    assert out.startswith('<p><a href="https://a.example">a</a></p>')
    assert out.endswith('height:1px" />')


async def test_the_sent_email_carries_signed_links_to_its_own_targets_and_a_pixel(smtp: SmtpServer) -> None:
    ctx = make_ctx(
        {"subject": "Sale", "body": "Our sale", "html": HTML, "template": "", "campaign_id": "spring"}
    )
    result = await mailer(smtp).run(ctx)
    assert result.output["tracked_links"] == 2
    assert result.output["tracked_opens"] is True
    html = html_part(smtp)
    clicks = [part.split('"')[0] for part in html.split(f"{BASE}/t/c/")[1:]]
    targets = [KEYS.verify(token, CLICK) for token in clicks]
    assert [t.url for t in targets if t] == ["https://shop.example/sale?a=1&b=2", "http://blog.example/post"]
    opened = KEYS.verify(html.split(f"{BASE}/t/o/")[1].split('"')[0], OPEN)
    assert opened is not None
    assert (opened.org_id, opened.execution_id, opened.step_id, opened.contact_id) == (
        "org_1",
        "ex_1",
        "step_0",
        "c_123",
    )
    assert opened.campaign == "spring"
    assert opened.message_id == result.output["message_id"]


async def test_the_step_and_the_organization_turn_tracking_off(smtp: SmtpServer) -> None:
    await mailer(smtp).run(make_ctx({"subject": "s", "body": "b", "html": HTML, "track_clicks": False}))
    html = html_part(smtp)
    assert "/t/c/" not in html and "/t/o/" in html
    quiet = mailer(smtp, tracking_orgs={"org_1": OrgTracking(opens=False, clicks=False)})
    await quiet.run(make_ctx({"subject": "s", "body": "b", "html": HTML}))
    assert "/t/" not in html_part(smtp)
    await quiet.run(make_ctx({"subject": "s", "body": "b", "html": HTML, "track_opens": True}))
    html = html_part(smtp)
    assert "/t/o/" in html and "/t/c/" not in html


async def test_nothing_is_tracked_without_a_tracking_url(smtp: SmtpServer) -> None:
    result = await mailer(smtp, tracking_base_url="").run(
        make_ctx({"subject": "s", "body": "b", "html": HTML})
    )
    assert "/t/" not in html_part(smtp)
    assert result.output["tracked_links"] == 0
