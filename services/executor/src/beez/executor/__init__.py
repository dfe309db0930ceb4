"""Runs executions durably, step by step; owns execution history and timers."""
