"""gRPC plumbing shared by every service: server bootstrap, identity, errors and health."""
