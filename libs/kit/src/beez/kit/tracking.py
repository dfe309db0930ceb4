"""Signed engagement-tracking tokens: the executor writes them into emails, the gateway reads them.

A token names one email of one execution step (organization, contact, execution, automation,
step, campaign and template when the step has them) and, for a click, the exact link that was in
the email. It is ``<key id>.<payload>.<mac>``: the payload is compact JSON in unpadded base64url,
the MAC the first 16 bytes of HMAC-SHA256 over ``<key id>.<payload>`` with that key, base64url.
Nothing is stored: the gateway answers a hit from the token alone, and a token whose MAC does
not verify (a changed byte anywhere, an unknown key id) is refused as a whole, so a click can only
ever redirect to the URL the executor signed (decision 0041).

``BEEZ_TRACKING_KEYS_FILE`` holds ``<key id>:<secret>`` per line (secrets of at least 32
characters; blank lines and ``#`` comments ignored): the first key signs, every key verifies, so
the ring rotates by putting a new key first and keeping the old one as long as old emails should
still count. Local mode without a file uses :data:`LOCAL_TRACKING_KEYS`, public and worthless.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

__all__ = [
    "CLICK",
    "LOCAL_TRACKING_KEYS",
    "OPEN",
    "TrackingClaims",
    "TrackingKeyError",
    "TrackingKeys",
    "hit_event_id",
]

OPEN: Literal["o"] = "o"
CLICK: Literal["c"] = "c"

LOCAL_TRACKING_KEYS = "local-dev:local-development-tracking-key-not-a-secret"
"""The development ring of local mode: public, so it protects nothing."""

MIN_SECRET = 32
MAC_BYTES = 16
OPEN_BUCKET_S = 3600
"""Opens of one email count once per hour: mail clients and proxies fetch the pixel repeatedly."""
CLICK_BUCKET_S = 60
"""Clicks of one link of one email count once per minute: a double click is one click."""

_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_FIELDS = {
    "k": "kind",
    "o": "org_id",
    "c": "contact_id",
    "e": "execution_id",
    "a": "automation_id",
    "s": "step_id",
    "p": "step_path",
    "m": "message_id",
    "g": "campaign",
    "t": "template",
    "u": "url",
}


class TrackingKeyError(ValueError):
    """A tracking key file that cannot be used; the message never contains a key."""


@dataclass(frozen=True, slots=True)
class TrackingClaims:
    """What a tracking token attests: which email (and, for a click, which link)."""

    kind: str
    org_id: str
    execution_id: str
    step_id: str
    contact_id: str = ""
    automation_id: str = ""
    step_path: str = ""
    message_id: str = ""
    campaign: str = ""
    template: str = ""
    url: str = ""

    def with_url(self, url: str) -> TrackingClaims:
        """The click claims of a link of this email."""
        return TrackingClaims(
            CLICK,
            self.org_id,
            self.execution_id,
            self.step_id,
            self.contact_id,
            self.automation_id,
            self.step_path,
            self.message_id,
            self.campaign,
            self.template,
            url,
        )

    def event_data(self) -> dict[str, str]:
        """The ``email.*`` event's data: the catalog's conventions plus the step's ids."""
        data = {
            "execution_id": self.execution_id,
            "automation_id": self.automation_id,
            "step_id": self.step_id,
            "step_path": self.step_path,
            "message_id": self.message_id,
            "campaign": self.campaign,
            "template": self.template,
        }
        if self.kind == CLICK:
            data["url"] = self.url
        return {k: v for k, v in data.items() if v}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class TrackingKeys:
    """HMAC keys by id; the first signs, all verify."""

    keys: tuple[tuple[str, bytes], ...]

    @classmethod
    def parse(cls, text: str, source: str = "the tracking key ring") -> TrackingKeys:
        keys: list[tuple[str, bytes]] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key_id, sep, secret = line.partition(":")
            key_id, secret = key_id.strip(), secret.strip()
            if not sep or not _KEY_ID.match(key_id):
                raise TrackingKeyError(f"{source} line {number}: expected '<key id>:<secret>'")
            if any(key_id == known for known, _ in keys):
                raise TrackingKeyError(f"{source} line {number}: key id {key_id!r} appears twice")
            if len(secret) < MIN_SECRET:
                raise TrackingKeyError(f"{source} line {number}: key {key_id!r} is shorter than {MIN_SECRET}")
            keys.append((key_id, secret.encode()))
        if not keys:
            raise TrackingKeyError(f"{source} holds no key")
        return cls(tuple(keys))

    @classmethod
    def load(cls, path: str) -> TrackingKeys:
        """The ring in the file ``path``, or :data:`LOCAL_TRACKING_KEYS` when ``path`` is empty."""
        if not path:
            return cls.parse(LOCAL_TRACKING_KEYS, "the local development tracking keys")
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            problem = type(exc).__name__
            raise TrackingKeyError(f"BEEZ_TRACKING_KEYS_FILE: cannot read {path}: {problem}") from None
        return cls.parse(text, f"BEEZ_TRACKING_KEYS_FILE ({path})")

    def _mac(self, key: bytes, signed: str) -> str:
        return _b64(hmac.new(key, signed.encode(), hashlib.sha256).digest()[:MAC_BYTES])

    def sign(self, claims: TrackingClaims) -> str:
        """The token of ``claims``, signed with the first key."""
        key_id, key = self.keys[0]
        values = {short: getattr(claims, name) for short, name in _FIELDS.items()}
        payload = _b64(json.dumps({k: v for k, v in values.items() if v}, separators=(",", ":")).encode())
        signed = f"{key_id}.{payload}"
        return f"{signed}.{self._mac(key, signed)}"

    def verify(self, token: str, kind: str) -> TrackingClaims | None:
        """The claims of a genuine token of ``kind``; None for anything else (never raises)."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        key_id, payload, mac = parts
        key = next((secret for known, secret in self.keys if known == key_id), None)
        if key is None or not hmac.compare_digest(self._mac(key, f"{key_id}.{payload}"), mac):
            return None
        try:
            values = json.loads(_unb64(payload))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(values, dict) or values.get("k") != kind:
            return None
        named = {name: str(values.get(short, "")) for short, name in _FIELDS.items()}
        if not named["org_id"] or not named["execution_id"] or not named["step_id"]:
            return None
        if kind == CLICK and not named["url"].lower().startswith(("http://", "https://")):
            return None
        return TrackingClaims(**named)


def hit_event_id(token: str, kind: str, at: datetime) -> str:
    """The id of the event a hit publishes: the same email (or link) in the same time bucket gives
    the same id, so the trigger drops repeats as duplicates (:data:`OPEN_BUCKET_S`,
    :data:`CLICK_BUCKET_S`)."""
    bucket = int(at.timestamp()) // (OPEN_BUCKET_S if kind == OPEN else CLICK_BUCKET_S)
    digest = hashlib.sha256(f"{kind}:{bucket}:{token}".encode()).hexdigest()[:32]
    return f"trk_{digest}"
