# Generated from ../_async/__init__.py by scripts/generate_sync.py: do not edit.
"""The contract protocols; ``_sync`` is generated from ``_async`` (scripts/generate_sync.py)."""
