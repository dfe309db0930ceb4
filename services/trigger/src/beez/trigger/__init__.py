"""Event ingestion and trigger matching; turns events into execution jobs."""
