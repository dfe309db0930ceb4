"""The REST gateway: HTTP/JSON in front of the Beez gRPC services, driven by ``google.api.http``.

Modules: :mod:`~beez.gateway.routes` (route table from the annotations),
:mod:`~beez.gateway.transcode` (HTTP <-> protobuf), :mod:`~beez.gateway.errors` (gRPC status
-> HTTP error), :mod:`~beez.gateway.authn` (who is calling: a verified JWT, or local-mode
headers), :mod:`~beez.gateway.tokens` and :mod:`~beez.gateway.jwks` (JWT verification and its
keys), :mod:`~beez.gateway.auth_config` (the authenticator from settings),
:mod:`~beez.gateway.cors` (allowed browser origins), :mod:`~beez.gateway.metadata` (verified
identity and trace headers -> gRPC metadata),
:mod:`~beez.gateway.openapi` (the OpenAPI document), :mod:`~beez.gateway.health` (probes),
:mod:`~beez.gateway.hooks` (``POST /hooks/{token}``: inbound webhooks),
:mod:`~beez.gateway.limits` (request rate limits),
:mod:`~beez.gateway.app` (the aiohttp application), :mod:`~beez.gateway.contracts` (finding the
service descriptors), :mod:`~beez.gateway.config` and :mod:`~beez.gateway.server` (the process).
"""

from beez.gateway.app import create_app

__all__ = ["create_app"]
