"""Execution analytics, fed by the execution lifecycle stream."""
