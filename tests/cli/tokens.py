"""HS256 JWTs for the CLI's token tests, built from RFC 7515/7519 directly.

Building them here, rather than with the library the gateway verifies with, means the tests
prove the gateway accepts any standard token, not just the ones its own library writes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

ISSUER = "https://auth.beez.test/"
AUDIENCE = "beez-automations"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def hs256_token(secret: str, **claims: Any) -> str:
    """A compact JWS signed with HMAC-SHA256, valid for five minutes unless ``claims`` say otherwise."""
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + 300, **claims}
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(payload).encode())
    signature = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"
