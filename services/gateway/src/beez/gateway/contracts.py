"""Finds the gRPC services to expose: every service in the generated ``beez.api`` modules.

The gateway is told nothing about individual services; a new ``*_pb2`` module in the contracts
package (with annotated RPCs) is picked up on the next start.
"""

from __future__ import annotations

import importlib
import pkgutil

from google.protobuf.descriptor import ServiceDescriptor


def load_service_descriptors(package: str = "beez.api") -> list[ServiceDescriptor]:
    """The services defined by every ``*_pb2`` module under ``package``, sorted by full name."""
    root = importlib.import_module(package)
    services: dict[str, ServiceDescriptor] = {}
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if info.ispkg or not info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(info.name)
        for service in module.DESCRIPTOR.services_by_name.values():
            services[service.full_name] = service
    return [services[name] for name in sorted(services)]
