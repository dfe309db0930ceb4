"""send_personalized_video and send_survey: a tracked link to a personalized URL, sent by email,
SMS or WhatsApp.

The URL (``video_url`` / ``survey_url``) and the ``message`` are templates rendered by the engine
like every config. The URL becomes a click-tracking link (decision 0041: ``<tracking base>/t/c/
<token>``, the token signed by the executor's tracking keys and naming the organization,
execution, automation, step, contact, the step's key as the message and the action type as the
template), so a click makes the gateway publish ``email.clicked`` attributed to this step and
redirect to the personalized URL. Without tracking (no ``tracking_base_url`` or keys, or the
organization's ``clicks`` off) the plain URL is sent and ``tracked`` is false.

The link replaces ``[[link]]`` in the message, or goes on a line of its own after it. The message
then goes out through the channel's own action (:class:`~.email.SendEmail`,
:class:`~.messaging.SendSms`, :class:`~.messaging.SendWhatsApp`) with the step's context: the same
consent rule, recipient, connection, idempotency key and error classification as those steps,
and the same preview. An email's HTML is not generated, so nothing is tracked twice.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from beez.executor.actions.base import Action, ActionContext, ActionResult, PermanentError
from beez.executor.actions.preview import Preview, Previewing
from beez.executor.actions.settings import ActionSettings
from beez.kit.tracking import CLICK, TrackingClaims, TrackingKeys
from beez.workflow.catalog.actions_comms import LINK_MARKER

__all__ = ["LINK_ACTIONS", "SendTrackedLink"]

LINK_ACTIONS: dict[str, str] = {"send_personalized_video": "video_url", "send_survey": "survey_url"}
"""The tracked-link actions and the config field holding their URL."""

_PROVIDERS = {"email": "smtp", "sms": "twilio", "whatsapp": "whatsapp"}


class SendTrackedLink:
    """One tracked-link action type; see the module docstring.

    Output: the channel action's output, plus ``channel``, ``url`` (the personalized URL),
    ``tracked`` and ``link`` (what was sent).
    """

    def __init__(
        self,
        type_: str,
        settings: ActionSettings,
        channels: dict[str, Action],
        keys: TrackingKeys | None,
    ) -> None:
        self.type = type_
        self.url_field = LINK_ACTIONS[type_]
        self.settings = settings
        self.channels = channels
        self.keys = keys

    def link(self, ctx: ActionContext, url: str) -> tuple[str, bool]:
        """The URL to send and whether it is tracked."""
        base = self.settings.tracking_base_url.rstrip("/")
        org = self.settings.tracking_orgs.get(ctx.org_id)
        clicks = org.clicks if org is not None and org.clicks is not None else self.settings.tracking_clicks
        if not base or self.keys is None or not clicks:
            return url, False
        claims = TrackingClaims(
            kind=CLICK,
            org_id=ctx.org_id,
            execution_id=ctx.execution_id,
            step_id=ctx.step_id,
            contact_id=str(ctx.contact.get("id") or ""),
            automation_id=ctx.automation_id,
            step_path=ctx.step_path,
            message_id=ctx.idempotency_key,
            campaign=str(ctx.config.get("campaign_id") or ""),
            template=self.type,
            url=url,
        )
        return f"{base}/t/c/{self.keys.sign(claims)}", True

    def delegate(self, ctx: ActionContext) -> tuple[Action, ActionContext, dict[str, Any]]:
        """The channel's action, the context it runs with, and what this step adds to its output."""
        config = ctx.config
        channel = str(config.get("channel") or "email")
        action = self.channels.get(channel)
        if action is None:
            raise PermanentError(
                f"`channel` must be email, sms or whatsapp, not {channel!r}", category="invalid_config"
            )
        if ctx.connection is not None and ctx.connection.provider != _PROVIDERS[channel]:
            raise PermanentError(
                f"connection {ctx.connection.name!r} is a {ctx.connection.provider} connection; "
                f"a {channel} message uses {_PROVIDERS[channel]}",
                category="connection",
            )
        url = str(config.get(self.url_field) or "").strip()
        if not url.lower().startswith(("http://", "https://")):
            raise PermanentError(f"`{self.url_field}` is not an http(s) URL", category="invalid_config")
        message = str(config.get("message") or "")
        if not message.strip():
            raise PermanentError("`message` is empty", category="invalid_config")
        link, tracked = self.link(ctx, url)
        text = (
            message.replace(LINK_MARKER, link) if LINK_MARKER in message else f"{message.rstrip()}\n\n{link}"
        )
        inner: dict[str, Any] = {"body": text}
        if config.get("to") is not None:
            inner["to"] = config["to"]
        if channel == "email":
            subject = str(config.get("subject") or "").strip()
            if not subject:
                raise PermanentError("`subject` is required for an email", category="invalid_config")
            inner.update(subject=subject, track_clicks=False)
            if config.get("campaign_id"):
                inner["campaign_id"] = config["campaign_id"]
        added = {"channel": channel, "url": url, "tracked": tracked, "link": link}
        return action, replace(ctx, config=inner), added

    async def preview(self, ctx: ActionContext) -> Preview | ActionResult:
        action, inner, _ = self.delegate(ctx)
        if not isinstance(action, Previewing):
            raise PermanentError(f"{self.type} has no preview for this channel", category="invalid_config")
        return await action.preview(inner)

    async def run(self, ctx: ActionContext) -> ActionResult:
        action, inner, added = self.delegate(ctx)
        result = await action.run(inner)
        if result.status == "skipped":
            result.output = {**result.output, "channel": added["channel"]}
            return result
        result.output = {**result.output, **added}
        return result
