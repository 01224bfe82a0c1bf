"""The ``websession`` command."""
