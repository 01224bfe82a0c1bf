# Generated from ../_async/__init__.py by scripts/generate_sync.py: do not edit.
"""The auth service's one source; ``_sync`` is generated from it (scripts/generate_sync.py)."""
