"""The provider actions' side of the parity rig (decision 0044): their stand-ins, the settings
that point the executor at them, and the connections a sample's organization gets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from beez.api.executor.v1 import connections_pb2, connections_pb2_grpc
from tests.executor.engine.conftest import Executor
from tests.support.standins import (
    asana,
    buffer,
    close,
    enrichment,
    google,
    hubspot,
    intercom,
    jira,
    mailchimp,
    monday,
    pipedrive,
    salesforce,
    shopify,
    stripe,
)
from tests.support.standins.base import serving_standins
from tests.support.standins.hooks import Make, Zapier


def connections(url: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Per provider: the connection's name (as the parity workflows name it) and credentials."""
    return {
        "stripe": ("payments", {"secret_key": stripe.SECRET_KEY}),
        "shopify": ("store", {"shop": "beez-test", "access_token": shopify.ACCESS_TOKEN}),
        "google": (
            "drive",
            {
                "client_id": google.CLIENT_ID,
                "client_secret": "g-secret",
                "refresh_token": google.REFRESH_TOKEN,
            },
        ),
        "salesforce": (
            "sales",
            {
                "client_id": salesforce.CLIENT_ID,
                "client_secret": "sf-secret",
                "refresh_token": salesforce.REFRESH_TOKEN,
                "instance_url": f"{url}/salesforce",
            },
        ),
        "hubspot": (
            "crm",
            {
                "client_id": hubspot.CLIENT_ID,
                "client_secret": "hs-secret",
                "refresh_token": hubspot.REFRESH_TOKEN,
            },
        ),
        # named after their providers, as integrations-b.json names them
        "jira": ("jira", {"site": "acme", "email": jira.EMAIL, "api_token": jira.TOKEN}),
        "buffer": ("buffer", {"api_key": buffer.API_KEY}),
        "mailchimp": ("mailchimp", {"api_key": mailchimp.API_KEY}),
        "intercom": ("intercom", {"access_token": intercom.TOKEN}),
        "pipedrive": ("pipedrive", {"api_token": pipedrive.API_TOKEN}),
        "close": ("close", {"api_key": close.API_KEY}),
        "asana": ("asana", {"access_token": asana.TOKEN}),
        "monday": ("monday", {"api_token": monday.TOKEN}),
    }


@asynccontextmanager
async def provider_standins() -> AsyncIterator[tuple[str, dict[str, str]]]:
    """The stand-ins on one local server: its URL and the ``provider_base_urls`` setting."""
    standins = (
        stripe.Stripe(),
        shopify.Shopify(),
        google.Google(),
        salesforce.Salesforce(),
        hubspot.Hubspot(),
        Zapier(),
        Make(),
        enrichment.Enrichment(),
        jira.Jira(),
        buffer.Buffer(),
        mailchimp.Mailchimp(),
        intercom.Intercom(),
        pipedrive.Pipedrive(),
        close.Close(),
        asana.Asana(),
        monday.Monday(),
    )
    async with serving_standins(*standins) as url:
        served = (
            "stripe",
            "shopify",
            "google",
            "salesforce",
            "hubspot",
            "jira",
            "buffer",
            "intercom",
            "pipedrive",
            "close",
        )
        bases = {name: f"{url}/{name}" for name in served}
        yield (
            url,
            {
                **bases,
                "google_sheets": f"{url}/google/sheets",
                "zapier": f"{url}/zapier",
                "make": f"{url}/make",
                "mailchimp": f"{url}/mailchimp/3.0",
                "asana": f"{url}/asana/api/1.0",
                "monday": f"{url}/monday/v2",
            },
        )


async def connect(executor: Executor, org: str, url: str, providers: tuple[str, ...]) -> None:
    """Creates the organization's connection of each of ``providers``."""
    stub: Any = connections_pb2_grpc.ConnectionServiceStub(executor.svc.channel)
    metadata = [("x-org-id", org), ("x-roles", "admin"), ("x-user-id", "u_parity")]
    known = connections(url)
    for provider in providers:
        name, credentials = known[provider]
        request = connections_pb2.CreateConnectionRequest(
            provider=provider, name=name, credentials=credentials
        )
        await stub.CreateConnection(request, metadata=metadata)
