"""The processes that make up the stack, and where each listens by default."""

from __future__ import annotations

from dataclasses import dataclass

from beez.kit.stack import SERVICES

__all__ = ["DEFAULT_GRPC_BASE", "DEFAULT_HTTP_PORT", "SERVICES", "Component", "components"]
DEFAULT_GRPC_BASE = 50051
DEFAULT_HTTP_PORT = 8080


@dataclass(frozen=True)
class Component:
    """One process of the stack."""

    name: str
    port: int
    http: bool = False

    @property
    def module(self) -> str:
        return f"beez.{self.name}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def components(grpc_base: int = DEFAULT_GRPC_BASE, http_port: int = DEFAULT_HTTP_PORT) -> list[Component]:
    """The five services on consecutive ports from ``grpc_base``, then the gateway."""
    services = [Component(name, grpc_base + i) for i, name in enumerate(SERVICES)]
    return [*services, Component("gateway", http_port, http=True)]
