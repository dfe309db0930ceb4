"""The aiohttp application: REST in, generic unary gRPC calls out.

Nothing here knows any Beez RPC. The route table comes from the services' ``google.api.http``
annotations and each call is made through ``channel.unary_unary("/pkg.Service/Method")`` with
the request and response classes built from the descriptors, so a newly annotated RPC is
served as soon as its descriptor is passed in.

One request goes: match the route (404/405 otherwise) -> identity (401 before any gRPC call)
-> the request limits (429 with Retry-After) -> the role the RPC needs, from the permission
table (403) -> build the request message (400 on bad input) -> call with a deadline, carrying
the verified identity -> JSON answer, or the backend's ``google.rpc.Status`` as an HTTP error.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from aiohttp import web
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from beez.api.permissions import PERMISSIONS, Role, grants
from beez.gateway.authn import ORG_HTTP_HEADER, ROLES_HTTP_HEADER, USER_HTTP_HEADER, Authenticator
from beez.gateway.cors import cors_middleware
from beez.gateway.engagement import Engagement, EngagementSettings
from beez.gateway.errors import (
    GatewayError,
    error_response,
    http_status,
    public_status,
    status_code,
    status_from_rpc_error,
)
from beez.gateway.health import Readiness, healthz
from beez.gateway.hooks import HOOK_SERVICE, HookEndpoint, loggable_path, openapi_operation
from beez.gateway.limits import RequestLimits
from beez.gateway.metadata import outgoing_metadata
from beez.gateway.openapi import build_openapi
from beez.gateway.routes import Route, RouteError, RouteTable, build_routes
from beez.gateway.transcode import build_request, render_response
from beez.kit.logging import get_logger

log = get_logger(__name__)

ChannelResolver = Callable[[str], grpc.aio.Channel]
"""Returns the channel for a service's full name (``beez.api.automation.v1.AutomationService``)."""

ROUTES = web.AppKey("beez_gateway_routes", RouteTable)
OPENAPI = web.AppKey("beez_gateway_openapi", dict)
RPC = web.RequestKey("beez_gateway_rpc", str)
QUIET_PATHS = frozenset({"/healthz", "/readyz"})


@dataclass(frozen=True, slots=True)
class Endpoint:
    """How to call one RPC: its request class and a unary-unary callable on its channel."""

    request_class: type[Message]
    call: Any  # grpc.aio.UnaryUnaryMultiCallable; grpc ships no type stubs


class Gateway:
    """The catch-all handler transcoding every REST call in the route table."""

    def __init__(
        self,
        table: RouteTable,
        endpoints: Mapping[str, Endpoint],
        *,
        auth: Authenticator,
        permissions: Mapping[str, Role],
        request_timeout_s: float,
        emit_unpopulated: bool,
        limits: RequestLimits | None = None,
    ) -> None:
        self.table = table
        self.limits = limits
        self.endpoints = endpoints
        self.auth = auth
        self.permissions = permissions
        self.request_timeout_s = request_timeout_s
        self.emit_unpopulated = emit_unpopulated

    async def handle(self, request: web.Request) -> web.Response:
        path = request.rel_url.raw_path
        match = self.table.match(request.method, path)
        if match is None:
            raise self._no_route(request.method, path)
        route = match.route
        request[RPC] = route.grpc_path
        identity = await self.auth.authenticate(request.headers)
        if self.limits is not None:
            await self.limits.admit(identity.org_id)
        required = self.permissions[route.grpc_path]
        if not grants(identity.roles, required):
            raise GatewayError(
                grpc.StatusCode.PERMISSION_DENIED, f"{route.method.name} needs the {required.value} role"
            )
        metadata = outgoing_metadata(identity, request.headers)
        endpoint = self.endpoints[route.grpc_path]
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise GatewayError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"request body exceeds {request.client_max_size} bytes",
                http_status=413,
            ) from None
        query = request.rel_url.query.items()
        message = build_request(route, endpoint.request_class, match.path_params, query, body)
        try:
            response = await endpoint.call(message, metadata=metadata, timeout=self.request_timeout_s)
        except grpc.aio.AioRpcError as exc:
            return self._failed(route, exc)
        return web.json_response(render_response(route, response, emit_unpopulated=self.emit_unpopulated))

    def _no_route(self, method: str, path: str) -> GatewayError:
        allowed = self.table.allowed_methods(path)
        if allowed:
            return GatewayError(
                grpc.StatusCode.UNIMPLEMENTED,
                f"method {method} not allowed on {path}",
                http_status=405,
                headers={"Allow": ", ".join(allowed)},
            )
        return GatewayError(grpc.StatusCode.NOT_FOUND, f"no route for {method} {path}")

    def _failed(self, route: Route, exc: grpc.aio.AioRpcError) -> web.Response:
        status = status_from_rpc_error(exc)
        code = status_code(status.code)
        if http_status(code) >= 500:
            log.warning("backend call failed", rpc=route.grpc_path, code=code.name, error=status.message)
        return error_response(public_status(status))


@web.middleware
async def _errors_and_access_log(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Renders :class:`GatewayError` and unexpected exceptions as Status JSON; logs each request."""
    started = time.perf_counter()
    try:
        response = await handler(request)
    except GatewayError as exc:
        response = exc.to_response()
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unhandled error in gateway", method=request.method, path=loggable_path(request.path))
        response = GatewayError(grpc.StatusCode.INTERNAL, "internal error").to_response()
    fields = {
        "method": request.method,
        "path": loggable_path(request.path),
        "status": response.status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "rpc": request.get(RPC),
    }
    if request.path in QUIET_PATHS:
        log.debug("http request", **fields)
    else:
        log.info("http request", **fields)
    return response


def create_app(
    targets: Mapping[str, grpc.aio.Channel] | ChannelResolver,
    descriptors: Iterable[ServiceDescriptor],
    *,
    auth: Authenticator,
    permissions: Mapping[str, Role] = PERMISSIONS,
    cors_origins: Iterable[str] = (),
    request_timeout_s: float = 30.0,
    emit_unpopulated: bool = False,
    readiness_timeout_s: float = 2.0,
    limits: RequestLimits | None = None,
    hook_max_body_bytes: int = 128 * 1024,
    engagement: EngagementSettings | None = None,
) -> web.Application:
    """The gateway application for the services in ``descriptors``.

    ``targets`` gives each service's channel, by full service name (a mapping or a function);
    the caller owns the channels and closes them. Answers leave out unset fields (no ``""``,
    ``[]`` or ``0`` filler); a field declared ``optional`` in the contracts has presence and shows
    whenever it was set, even at its default (``"active": false``, ``"total": "0"``).
    ``emit_unpopulated`` answers every field, set or not, as grpc-gateway does by default.

    ``auth`` proves each caller (a verified JWT, or headers in local mode); the app starts and
    closes it. ``permissions`` gives the role each RPC needs; ``cors_origins`` the browser
    origins allowed; ``limits``, when given, answers 429 to an organization over its request
    rate or to everyone over the global one, after authentication. When the trigger's
    ``HookService`` is among ``descriptors``, ``POST /hooks/{token}`` delivers inbound webhooks
    (:mod:`beez.gateway.hooks`), bodies limited to ``hook_max_body_bytes``. Raises
    :class:`~beez.gateway.routes.RouteError` for an http rule that cannot be served or an RPC
    missing from ``permissions``, and ``KeyError`` for a service without a channel.
    ``engagement``, when given, serves the tracking and delivery callback routes
    (:mod:`~beez.gateway.engagement`), which need no token.
    """
    services = list(descriptors)
    resolve: ChannelResolver = targets.__getitem__ if isinstance(targets, Mapping) else targets
    channels = {service.full_name: resolve(service.full_name) for service in services}
    table = build_routes(services)
    undeclared = sorted({r.grpc_path for r in table.routes if r.grpc_path not in permissions})
    if undeclared:
        raise RouteError(f"no role declared for {', '.join(undeclared)}: add them to beez.api.permissions")
    endpoints: dict[str, Endpoint] = {}
    for route in table.routes:
        if route.grpc_path in endpoints:
            continue
        request_class = GetMessageClass(route.request_type)
        response_class = GetMessageClass(route.response_type)
        call = channels[route.service.full_name].unary_unary(
            route.grpc_path,
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )
        endpoints[route.grpc_path] = Endpoint(request_class, call)
    gateway = Gateway(
        table,
        endpoints,
        auth=auth,
        permissions=permissions,
        request_timeout_s=request_timeout_s,
        emit_unpopulated=emit_unpopulated,
        limits=limits,
    )
    document = build_openapi(table, local_mode=auth.local_mode)
    serve_hooks = HOOK_SERVICE.full_name in channels
    if serve_hooks:
        document["paths"]["/hooks/{token}"] = {"post": openapi_operation(hook_max_body_bytes)}

    async def openapi(_: web.Request) -> web.Response:
        return web.json_response(document)

    allow_headers = ["Authorization", "Content-Type", "traceparent", "tracestate"]
    if auth.local_mode:
        allow_headers += [ORG_HTTP_HEADER, USER_HTTP_HEADER, ROLES_HTTP_HEADER]
    cors = cors_middleware(cors_origins, allow_headers=allow_headers)
    app = web.Application(middlewares=[cors, _errors_and_access_log])

    async def start_auth(_: web.Application) -> None:
        await auth.start()

    async def close_auth(_: web.Application) -> None:
        await auth.close()

    app.on_startup.append(start_auth)
    app.on_cleanup.append(close_auth)
    app[ROUTES] = table
    app[OPENAPI] = document
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", Readiness(channels, readiness_timeout_s).handle)
    app.router.add_get("/openapi.json", openapi)
    if serve_hooks:
        hooks = HookEndpoint(
            channels[HOOK_SERVICE.full_name],
            max_body_bytes=hook_max_body_bytes,
            request_timeout_s=request_timeout_s,
            permissions=permissions,
            limits=limits,
        )
        app.router.add_post("/hooks/{token}", hooks.handle)
    if engagement is not None:
        Engagement(engagement, resolve, limits=limits).add_routes(app)
    app.router.add_route("*", "/{tail:.*}", gateway.handle)
    log.info("routes built", routes=len(table.routes), services=sorted(channels))
    return app
