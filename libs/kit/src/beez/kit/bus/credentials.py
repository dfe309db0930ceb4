"""Who a process is on NATS, and how its connection is encrypted.

One of three ways to authenticate, as nats-server and nats-py know them: a user and password
(``BEEZ_NATS_USER`` with ``BEEZ_NATS_PASSWORD`` or ``BEEZ_NATS_PASSWORD_FILE``), an nkey seed
file (``BEEZ_NATS_NKEY_SEED_FILE``), or a ``.creds`` file (``BEEZ_NATS_CREDS_FILE``); plus TLS
verified against a CA (``BEEZ_NATS_TLS_CA_FILE``, with ``BEEZ_NATS_TLS_CERT_FILE`` and
``BEEZ_NATS_TLS_KEY_FILE`` when the server wants a client certificate). Everything goes to
nats-py as its own options, never into the URL, so no log line or process listing shows it.

With TLS the client starts the TLS handshake before the server says anything (nats-py's
``tls_handshake_first``): nothing, not even the CONNECT with the password, is ever sent in
plaintext, and a server (or anything in between) that does not speak TLS fails the handshake
instead of being talked to in the clear. The server accepts this with ``handshake_first`` in its
``tls`` block (see deploy/nats/nats-server.conf).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import SplitResult, urlsplit

INBOX_ROOT = "_INBOX"


class InsecureNatsConfiguration(ValueError):
    """Production mode without NATS credentials or TLS, or credentials in the URL."""


class _NatsSettings(Protocol):
    """The NATS fields of :class:`beez.kit.settings.ServiceSettings`."""

    @property
    def nats_user(self) -> str: ...
    @property
    def nats_password(self) -> Any: ...
    @property
    def nats_password_file(self) -> str: ...
    @property
    def nats_nkey_seed_file(self) -> str: ...
    @property
    def nats_creds_file(self) -> str: ...
    @property
    def nats_tls_ca_file(self) -> str: ...
    @property
    def nats_tls_cert_file(self) -> str: ...
    @property
    def nats_tls_key_file(self) -> str: ...


def inbox_prefix(role: str) -> str:
    """The reply-subject prefix of the NATS user ``role`` (``_INBOX.trigger``).

    Each user may subscribe to its own inboxes only (deploy/nats), so no one can read the replies
    (PubAcks, pulled messages) of another; the client must then create its inboxes there.
    """
    return f"{INBOX_ROOT}.{role}"


@dataclass(frozen=True)
class NatsCredentials:
    """How to authenticate to NATS and verify it; empty means anonymous and plaintext."""

    user: str = ""
    password: str = field(default="", repr=False)
    password_file: str = ""
    nkey_seed_file: str = ""
    creds_file: str = ""
    tls_ca_file: str = ""
    tls_cert_file: str = ""
    tls_key_file: str = ""

    @classmethod
    def from_settings(cls, settings: _NatsSettings) -> NatsCredentials:
        password = settings.nats_password
        return cls(
            user=settings.nats_user,
            password=password.get_secret_value() if hasattr(password, "get_secret_value") else str(password),
            password_file=settings.nats_password_file,
            nkey_seed_file=settings.nats_nkey_seed_file,
            creds_file=settings.nats_creds_file,
            tls_ca_file=settings.nats_tls_ca_file,
            tls_cert_file=settings.nats_tls_cert_file,
            tls_key_file=settings.nats_tls_key_file,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NatsCredentials:
        """From the ``BEEZ_NATS_*`` variables of ``env`` (default: this process's environment)."""
        env = os.environ if env is None else env
        return cls(**{name: env.get(var, "") for name, var in _ENV.items()})

    def env(self) -> dict[str, str]:
        """The ``BEEZ_NATS_*`` variables that give a child process these credentials."""
        return {var: value for name, var in _ENV.items() if (value := getattr(self, name))}

    @property
    def authenticated(self) -> bool:
        return bool(self.user or self.nkey_seed_file or self.creds_file)

    def tls(self, url: str) -> bool:
        """True when the connection to ``url`` is to use TLS: a CA is given or a URL says ``tls://``."""
        return bool(self.tls_ca_file) or any(_scheme(u) == "tls" for u in _urls(url))

    def check(self) -> None:
        """ValueError for a combination that cannot work (two ways in, a password without user)."""
        ways = [w for w in (self.user, self.nkey_seed_file, self.creds_file) if w]
        if len(ways) > 1:
            raise ValueError(
                "give one NATS identity: BEEZ_NATS_USER (with a password), BEEZ_NATS_NKEY_SEED_FILE "
                "or BEEZ_NATS_CREDS_FILE"
            )
        if (self.password or self.password_file) and not self.user:
            raise ValueError("BEEZ_NATS_PASSWORD(_FILE) is set without BEEZ_NATS_USER")
        if self.user and not (self.password or self.password_file):
            raise ValueError("BEEZ_NATS_USER is set without BEEZ_NATS_PASSWORD or BEEZ_NATS_PASSWORD_FILE")
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ValueError("BEEZ_NATS_TLS_CERT_FILE and BEEZ_NATS_TLS_KEY_FILE go together")

    def require_secure(self, url: str) -> None:
        """What production mode demands: an identity, TLS, and no secrets in the URL.

        Raises :class:`InsecureNatsConfiguration` naming the settings to give.
        """
        problems = []
        if any("@" in _split(u).netloc for u in _urls(url)):
            problems.append(
                "BEEZ_NATS_URL carries credentials; give them as BEEZ_NATS_USER and "
                "BEEZ_NATS_PASSWORD_FILE (or an nkey or .creds file) instead"
            )
        if not self.authenticated:
            problems.append(
                "no NATS credentials: set BEEZ_NATS_USER with BEEZ_NATS_PASSWORD or "
                "BEEZ_NATS_PASSWORD_FILE, or BEEZ_NATS_NKEY_SEED_FILE, or BEEZ_NATS_CREDS_FILE"
            )
        if not self.tls(url):
            problems.append("no NATS TLS: set BEEZ_NATS_TLS_CA_FILE (or use a tls:// BEEZ_NATS_URL)")
        if problems:
            raise InsecureNatsConfiguration(
                "refusing to start in production mode (BEEZ_LOCAL_MODE=false): " + "; ".join(problems)
            )

    def connect_options(self, url: str) -> dict[str, Any]:
        """Keyword arguments for ``nats.connect``: nats-py's own credential and TLS options."""
        self.check()
        options: dict[str, Any] = {}
        if self.user:
            options["user"] = self.user
            options["password"] = self.password or _read_secret(self.password_file)
        elif self.nkey_seed_file:
            options["nkeys_seed"] = self.nkey_seed_file
        elif self.creds_file:
            options["user_credentials"] = self.creds_file
        if self.tls(url):
            options["tls"] = self.ssl_context()
            options["tls_handshake_first"] = True
        return options

    def ssl_context(self) -> ssl.SSLContext:
        """Verifies the server against the CA (else the system's), hostname included; TLS 1.2+."""
        context = ssl.create_default_context(cafile=self.tls_ca_file or None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.tls_cert_file:
            context.load_cert_chain(self.tls_cert_file, self.tls_key_file)
        return context


_ENV = {
    "user": "BEEZ_NATS_USER",
    "password": "BEEZ_NATS_PASSWORD",
    "password_file": "BEEZ_NATS_PASSWORD_FILE",
    "nkey_seed_file": "BEEZ_NATS_NKEY_SEED_FILE",
    "creds_file": "BEEZ_NATS_CREDS_FILE",
    "tls_ca_file": "BEEZ_NATS_TLS_CA_FILE",
    "tls_cert_file": "BEEZ_NATS_TLS_CERT_FILE",
    "tls_key_file": "BEEZ_NATS_TLS_KEY_FILE",
}


def _urls(url: str) -> list[str]:
    return [u.strip() for u in url.split(",") if u.strip()]


def _split(url: str) -> SplitResult:
    return urlsplit(url if "://" in url else f"nats://{url}")


def _scheme(url: str) -> str:
    return _split(url).scheme.lower()


def _read_secret(path: str) -> str:
    """A secret file's content without the trailing newline editors and ``echo`` add."""
    return Path(path).read_text().rstrip("\r\n")
