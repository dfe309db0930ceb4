"""Tests of the REST gateway (beez.gateway) against an in-process gRPC backend."""
