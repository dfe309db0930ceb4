"""A throwaway CA and a server certificate for 127.0.0.1/localhost, for TLS tests of servers that
are not ours (a collector, an SMTP server, PostgreSQL): :func:`beez.kit.tls.write_bundle`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from beez.kit.tls import write_bundle


@dataclass(frozen=True)
class ServerCerts:
    ca_file: Path
    cert_file: Path
    key_file: Path


def server_certs(directory: Path, name: str = "server") -> ServerCerts:
    """A new CA, and a certificate it signs for ``localhost`` and ``127.0.0.1``, under ``directory``."""
    files = write_bundle(directory, [name])[name]
    return ServerCerts(files.ca_file, files.cert_file, files.key_file)
