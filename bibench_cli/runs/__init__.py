"""Runs: identity, the record schema, atomic writes and finding records (no torch)."""
