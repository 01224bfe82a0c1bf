"""The auth service's one source; ``_sync`` is generated from it (scripts/generate_sync.py)."""
