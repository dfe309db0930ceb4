"""CORS for browser clients: only the configured origins, never ``*``.

A request whose ``Origin`` is listed gets ``Access-Control-Allow-Origin`` naming that origin (and
``Vary: Origin``), on success and on errors alike so a browser can read a 401. A preflight
(``OPTIONS`` with ``Access-Control-Request-Method``) from a listed origin is answered here, before
authentication, as browsers send it without credentials; from any other origin it gets 403 and
no CORS headers. Tokens travel in the ``Authorization`` header, not cookies, so credentials are
not allowed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

METHODS = "GET, POST, PUT, PATCH, DELETE"
MAX_AGE_S = 600


def cors_middleware(origins: Iterable[str], *, allow_headers: Iterable[str]) -> Middleware:
    """The middleware for ``origins`` (exact ``scheme://host[:port]``); ``*`` is refused."""
    allowed = frozenset(origins)
    if "*" in allowed:
        raise ValueError("BEEZ_CORS_ORIGINS: list the allowed origins; '*' is not accepted")
    headers_value = ", ".join(allow_headers)

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN)
        preflight = (
            request.method == hdrs.METH_OPTIONS and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers
        )
        if preflight and origin is not None:
            if origin not in allowed:
                return web.Response(status=403, text="origin not allowed")
            return web.Response(
                status=204,
                headers={
                    **_allow(origin),
                    hdrs.ACCESS_CONTROL_ALLOW_METHODS: METHODS,
                    hdrs.ACCESS_CONTROL_ALLOW_HEADERS: headers_value,
                    hdrs.ACCESS_CONTROL_MAX_AGE: str(MAX_AGE_S),
                },
            )
        if origin is None or origin not in allowed:
            return await handler(request)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers.update(_allow(origin))
            raise
        response.headers.update(_allow(origin))
        return response

    return cors


def _allow(origin: str) -> dict[str, str]:
    return {hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: origin, hdrs.VARY: hdrs.ORIGIN}
