"""The backend drivers; ``_sync`` is generated from ``_async`` (scripts/generate_sync.py)."""
