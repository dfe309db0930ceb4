"""Pure analytics logic: no gRPC, no SQL, no I/O."""
