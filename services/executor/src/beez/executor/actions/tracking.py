"""Engagement tracking of send_email: tracked links and an open pixel in the HTML body.

:func:`rewrite_html` re-emits an HTML document through the standard library's
:class:`html.parser.HTMLParser`, token by token and unchanged, except:

- the ``href`` of an ``<a>`` or ``<area>`` whose target is an ``http(s)`` URL becomes the click
  URL :class:`EmailTracking` signs for that exact target; ``mailto:``, ``tel:``, anchors and
  relative links, unsubscribe links (the URL or the tag's ``id``/``class``/``rel`` say
  "unsubscribe") and links marked ``data-beez-track="off"`` are left alone;
- with opens tracked, a 1x1 ``<img>`` of the open URL goes right before ``</body>`` (at the end
  when there is none).

Whether an email is tracked: the step's ``track_opens`` / ``track_clicks`` when given, else the
organization's setting (``ActionSettings.tracking_orgs``), else the platform's default; nothing is
tracked while ``tracking_base_url`` is empty (decision 0041).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

from beez.executor.actions.base import ActionContext
from beez.executor.actions.settings import ActionSettings
from beez.kit.tracking import OPEN, TrackingClaims, TrackingKeys

__all__ = ["EmailTracking", "rewrite_html"]

_LINK_TAGS = frozenset({"a", "area"})
_SKIP_WORD = "unsubscribe"


def _attr(name: str, value: str | None) -> str:
    return name if value is None else f'{name}="{escape(value, quote=True)}"'


class _Rewriter(HTMLParser):
    def __init__(self, link: Callable[[str], str | None], pixel: str | None) -> None:
        super().__init__(convert_charrefs=False)
        self.link = link
        self.pixel = pixel
        self.out: list[str] = []
        self.links = 0
        self.pixel_placed = False

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> str | None:
        """The rewritten start tag, or None to keep the original text."""
        if tag not in _LINK_TAGS:
            return None
        values = {name: value or "" for name, value in attrs}
        href = values.get("href", "").strip()
        if not href.lower().startswith(("http://", "https://")):
            return None
        if values.get("data-beez-track", "").lower() == "off":
            return None
        marks = " ".join((href, values.get("id", ""), values.get("class", ""), values.get("rel", ""))).lower()
        if _SKIP_WORD in marks:
            return None
        tracked = self.link(href)
        if tracked is None:
            return None
        self.links += 1
        parts = [tag] + [_attr(name, tracked if name == "href" else value) for name, value in attrs]
        return f"<{' '.join(parts)}{' /' if closed else ''}>"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self._tag(tag, attrs, False) or self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self._tag(tag, attrs, True) or self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "body" and self.pixel is not None and not self.pixel_placed:
            self.out.append(self.pixel)
            self.pixel_placed = True
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.out.append(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.out.append(f"<![{data}]>")


def rewrite_html(html: str, link: Callable[[str], str | None], pixel_url: str | None) -> tuple[str, int]:
    """``html`` with its http(s) links replaced by ``link(url)`` (None keeps one) and the open
    pixel of ``pixel_url`` placed; and how many links were replaced."""
    pixel = (
        None
        if pixel_url is None
        else f'<img src="{escape(pixel_url, quote=True)}" width="1" height="1" alt="" '
        'style="display:block;border:0;width:1px;height:1px" />'
    )
    parser = _Rewriter(link, pixel)
    parser.feed(html)
    parser.close()
    rawdata = getattr(parser, "rawdata", "")
    if rawdata:  # text the parser held back at the end (an unfinished tag): keep it as it was
        parser.out.append(rawdata)
    if pixel is not None and not parser.pixel_placed:
        parser.out.append(pixel)
    return "".join(parser.out), parser.links


@dataclass(frozen=True)
class Tracked:
    """What tracking did to one email."""

    html: str
    opens: bool
    links: int


class EmailTracking:
    """Signs the tracking URLs of an email and rewrites its HTML."""

    def __init__(self, settings: ActionSettings, keys: TrackingKeys | None) -> None:
        self.settings = settings
        self.keys = keys

    def wanted(self, ctx: ActionContext) -> tuple[bool, bool]:
        """(opens, clicks) for this step: the step's flags, else its organization's, else the default."""
        if not self.settings.tracking_base_url or self.keys is None:
            return False, False
        org = self.settings.tracking_orgs.get(ctx.org_id)
        opens = org.opens if org is not None and org.opens is not None else self.settings.tracking_opens
        clicks = org.clicks if org is not None and org.clicks is not None else self.settings.tracking_clicks
        if ctx.config.get("track_opens") is not None:
            opens = bool(ctx.config["track_opens"])
        if ctx.config.get("track_clicks") is not None:
            clicks = bool(ctx.config["track_clicks"])
        return opens, clicks

    def claims(self, ctx: ActionContext, message_id: str) -> TrackingClaims:
        return TrackingClaims(
            kind=OPEN,
            org_id=ctx.org_id,
            execution_id=ctx.execution_id,
            step_id=ctx.step_id,
            contact_id=str(ctx.contact.get("id") or ""),
            automation_id=ctx.automation_id,
            step_path=ctx.step_path,
            message_id=message_id,
            campaign=str(ctx.config.get("campaign_id") or ""),
            template=str(ctx.config.get("template") or ""),
        )

    def apply(self, ctx: ActionContext, html: str, message_id: str) -> Tracked:
        """The HTML as sent: links and pixel per :meth:`wanted`."""
        opens, clicks = self.wanted(ctx)
        if not (opens or clicks) or self.keys is None:
            return Tracked(html, False, 0)
        keys = self.keys
        base = self.settings.tracking_base_url.rstrip("/")
        claims = self.claims(ctx, message_id)

        def link(url: str) -> str | None:
            return f"{base}/t/c/{keys.sign(claims.with_url(url))}" if clicks else None

        pixel = f"{base}/t/o/{keys.sign(claims)}" if opens else None
        rewritten, count = rewrite_html(html, link, pixel)
        return Tracked(rewritten, opens, count)
