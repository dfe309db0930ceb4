"""Firebase Cloud Messaging HTTP v1 and Google's OAuth2 token endpoint, standing in.

- ``POST /token``: a form ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` and
  ``assertion``, a JWT whose RS256 signature must verify with the service account's public key
  and whose claims are ``iss`` (the account), ``scope`` (firebase.messaging), ``aud`` (this URL),
  ``iat`` and ``exp`` (at most an hour later); answers ``{"access_token", "expires_in": 3599,
  "token_type": "Bearer"}`` or Google's ``{"error": "invalid_grant", ...}`` with 400.
- ``POST /v1/projects/<project>/messages:send``: a bearer token this stand-in issued, JSON
  ``{"message": {"token", "notification": {"title", "body"}, ...}}``; answers ``{"name":
  "projects/<p>/messages/<n>"}``. ``script`` answers the next sends with FCM's error bodies.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from beez.kit.embedded import free_port

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fcm_error(status: int, code: str, message: str) -> dict[str, Any]:
    """FCM's error body (firebase.google.com/docs/cloud-messaging/error-codes)."""
    names = {
        400: "INVALID_ARGUMENT",
        404: "NOT_FOUND",
        429: "RESOURCE_EXHAUSTED",
        503: "UNAVAILABLE",
        500: "INTERNAL",
    }
    return {
        "error": {
            "code": status,
            "message": message,
            "status": names.get(status, "UNKNOWN"),
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}],
        }
    }


@dataclass
class FcmStandIn:
    """The two endpoints; what they were sent, and the answers still scripted."""

    public_key: rsa.RSAPublicKey
    client_email: str
    project: str
    port: int = field(default_factory=free_port)
    grants: list[dict[str, Any]] = field(default_factory=list)
    """The verified JWT claims of every token request."""
    sends: list[dict[str, Any]] = field(default_factory=list)
    """Every accepted send: ``headers`` and ``body``."""
    script: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    """(status, body, headers) answers for the next sends."""
    issued: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _assertion(self, jwt: str) -> dict[str, Any] | None:
        try:
            header_b64, claims_b64, signature_b64 = jwt.split(".")
            header = json.loads(_unb64(header_b64))
            self.public_key.verify(
                _unb64(signature_b64),
                f"{header_b64}.{claims_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
            claims: dict[str, Any] = json.loads(_unb64(claims_b64))
        except Exception:
            return None
        ok = (
            header.get("alg") == "RS256"
            and claims.get("iss") == self.client_email
            and claims.get("scope") == SCOPE
            and claims.get("aud") == f"{self.url}/token"
            and 0 < int(claims["exp"]) - int(claims["iat"]) <= 3600
        )
        return claims if ok else None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.method == "POST" and request.path == "/token":
            form = parse_qs(body.decode())
            claims = self._assertion(form.get("assertion", [""])[0])
            if form.get("grant_type") != [JWT_BEARER] or claims is None:
                return web.json_response(
                    {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, status=400
                )
            self.grants.append(claims)
            token = f"ya29.stand-in-{len(self.grants)}"
            self.issued.add(token)
            return web.json_response({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})
        if request.method == "POST" and request.path == f"/v1/projects/{self.project}/messages:send":
            auth = request.headers.get("Authorization", "")
            if auth.removeprefix("Bearer ") not in self.issued:
                return web.json_response(
                    fcm_error(
                        401, "THIRD_PARTY_AUTH_ERROR", "Request had invalid authentication credentials."
                    ),
                    status=401,
                )
            payload = json.loads(body)
            message = payload.get("message") or {}
            notification = message.get("notification") or {}
            if not message.get("token") or not notification.get("title") or not notification.get("body"):
                return web.json_response(
                    fcm_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument."), status=400
                )
            if self.script:
                status, answer, headers = self.script.pop(0)
                if status >= 400:
                    return web.json_response(answer, status=status, headers=headers)
            self.sends.append({"headers": dict(request.headers), "body": payload})
            return web.json_response({"name": f"projects/{self.project}/messages/0:{len(self.sends)}"})
        return web.json_response(
            {"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND"}}, status=404
        )
