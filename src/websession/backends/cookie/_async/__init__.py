"""The cookie backend's drivers; ``_sync`` is generated from ``_async``."""
