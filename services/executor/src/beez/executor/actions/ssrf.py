"""The SSRF guard: which addresses outgoing HTTP may reach, enforced where sockets connect.

Workflow authors choose the URLs of ``webhook``, ``call_api`` and ``send_slack``, and URLs are
templates, so a URL may name anything. The guard refuses every address that is not publicly
routable: loopback, RFC 1918 and ULA (``fc00::/7``) private ranges, link-local
(``169.254/16``, ``fe80::/10``), cloud metadata endpoints, unspecified, multicast, reserved and
CGNAT (``100.64/10``) space, and IPv6 forms that embed such an IPv4 address (``::ffff:a.b.c.d``,
6to4, NAT64). Well-known metadata and ``localhost`` names are refused before any lookup.
Entries of the settings' ``ssrf_allowlist`` (an exact host, ``*.suffix``, an IP or a CIDR) are
let through even when private.

The check runs twice:

1. :meth:`AddressGuard.check_url` before each request and each redirect hop, for a clear error
   whatever client is used;
2. :class:`GuardedTransport` at connect time: its network backend resolves the host once,
   checks every address, and connects to a checked *IP*, so a name cannot resolve to a public
   address for the check and to a private one for the connection (DNS rebinding). TLS still
   verifies the certificate against the host name (SNI and ``Host`` stay the name).

A name is refused when *any* of its addresses is refused, so a name with one public and one
private record cannot be used to reach the private one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import typing
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import httpcore
import httpx

__all__ = [
    "AddressGuard",
    "GuardedTransport",
    "ResolutionError",
    "Resolver",
    "SSRFBlocked",
    "blocked_reason",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Resolves ``(host, port)`` to IP address strings."""

_METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task metadata
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS IMDS over IPv6
    )
)
_BLOCKED_NAMES = frozenset(
    {
        "localhost",
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class SSRFBlocked(Exception):
    """A refused destination (the message says which and why; it holds no secrets)."""


class ResolutionError(Exception):
    """A host name that did not resolve; ``transient`` when the resolver may answer later."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def blocked_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be reached (``"loopback"``, ``"private"``...), or None when public."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            reason = blocked_reason(inner)
            if reason is not None:
                return f"{reason} (embedded in IPv6)"
            if ip.ipv4_mapped is not None:
                return None  # ::ffff:<public v4> is that public v4
    if ip in _METADATA_ADDRESSES:
        return "cloud metadata"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "shared address space (CGNAT)"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "site-local"
    if not ip.is_global:
        return "not globally routable"
    return None


def _normalize_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


def _as_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver (``getaddrinfo``), run off the event loop."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        permanent = exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME))
        raise ResolutionError(f"{host} does not resolve: {exc.strerror}", transient=not permanent) from exc
    except UnicodeError as exc:
        raise ResolutionError(f"{host!r} is not a valid host name", transient=False) from exc
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


@dataclass(frozen=True, slots=True)
class _Allowlist:
    networks: tuple[IPNetwork, ...]
    hosts: frozenset[str]
    suffixes: tuple[str, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> _Allowlist:
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        suffixes: list[str] = []
        for raw in entries:
            entry = _normalize_host(raw)
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            if entry.startswith("*."):
                suffixes.append(entry[1:])  # ".example.com"
            else:
                hosts.add(entry)
        return cls(tuple(networks), frozenset(hosts), tuple(suffixes))

    def host(self, host: str) -> bool:
        return host in self.hosts or any(host.endswith(suffix) for suffix in self.suffixes)

    def address(self, ip: IPAddress) -> bool:
        candidates: list[IPAddress] = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        return any(c.version == net.version and c in net for c in candidates for net in self.networks)


class AddressGuard:
    """Resolves hosts and refuses addresses that are not public, unless allowlisted."""

    def __init__(self, allowlist: Sequence[str] = (), resolver: Resolver | None = None) -> None:
        self._allow = _Allowlist.parse(allowlist)
        self._resolve = resolver or system_resolver

    def check_address(self, host: str, address: str) -> IPAddress:
        """``address`` (one of ``host``'s) as an IP, or :class:`SSRFBlocked`."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError as exc:
            raise SSRFBlocked(f"{host} resolved to an unusable address {address!r}") from exc
        if self._allow.address(ip):
            return ip
        reason = blocked_reason(ip)
        if reason is not None:
            shown = host if host == address else f"{host} ({address})"
            raise SSRFBlocked(f"refused to connect to {shown}: {reason} address")
        return ip

    async def resolve(self, host: str, port: int) -> list[str]:
        """The checked addresses to connect to for ``host``.

        Raises:
            SSRFBlocked: the name or any of its addresses is refused.
            ResolutionError: the name does not resolve.
        """
        name = _normalize_host(host)
        if not name:
            raise SSRFBlocked("refused: the URL has no host")
        literal = _as_ip(name)
        if literal is not None:
            self.check_address(name, name)
            return [name]
        allowlisted = self._allow.host(name)
        if not allowlisted and (name in _BLOCKED_NAMES or name.endswith(".localhost")):
            raise SSRFBlocked(f"refused to connect to {name}: a local or metadata host name")
        addresses = await self._resolve(name, port)
        if not addresses:
            raise ResolutionError(f"{name} has no addresses", transient=True)
        if not allowlisted:
            for address in addresses:
                self.check_address(name, address)
        return addresses

    async def check_url(self, url: httpx.URL) -> None:
        """Refuses a URL whose host is, or resolves to, a refused address."""
        if url.scheme not in ("http", "https"):
            raise SSRFBlocked(f"refused: scheme {url.scheme!r} is not http or https")
        port = url.port or (443 if url.scheme == "https" else 80)
        await self.resolve(url.raw_host.decode("ascii"), port)


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses the guard checked: resolution and connection use one answer."""

    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._guard.resolve(host, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise SSRFBlocked("refused: unix sockets are not reachable from actions")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """An httpx transport whose every connection goes through :class:`AddressGuard`.

    No proxies (``trust_env`` is off): a proxy would connect on our behalf to addresses the
    guard never sees.
    """

    def __init__(
        self,
        guard: AddressGuard,
        *,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits = httpx.Limits(max_connections=100, max_keepalive_connections=20),
    ) -> None:
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        # httpx builds its pool without a way to pass a network backend; swap in one that does.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(guard),
        )
