"""Opening stores for the command line: refuse what cannot be meant, and create
nothing where a command only reads.

``memory://`` (and ``sqlite://``, an in-memory database) lives inside one process, so
a command can never see an app's sessions there. A read-only command refuses an SQLite
file or a session directory that does not exist (rather than creating an empty one
and reporting 0), and opens PostgreSQL with ``setup=false`` so a missing table is
reported, not created. User names are resolved through the auth layer's user store
(``--users``, default ``$WEBSESSION_USERS``) when one is configured.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from websession.auth.users import UserStore
from websession.errors import ConfigError
from websession.stores import open_store
from websession.stores.base import Store
from websession.stores.url import POSTGRES_SCHEMES, local_path, scheme, sqlite_path

__all__ = ["DEFAULT_STORE", "Users", "open_cli_store", "open_users", "read_only_url"]

DEFAULT_STORE = "sqlite:///sessions.db"
_EXAMPLE = "'sqlite:///sessions.db' or 'redis://host:6379/0'"


def read_only_url(url: str) -> str:
    """``url``, checked to name a store that exists; PostgreSQL URLs get ``setup=false``
    so reading never creates a table. ConfigError saying what is wrong."""
    kind = scheme(url, what="store", example=_EXAMPLE)
    if kind == "dual":
        from websession.stores.dual import dual_url, parse_url

        new, old = parse_url(url)
        return dual_url(read_only_url(new), read_only_url(old))
    _refuse_in_process(url, kind)
    if kind == "sqlite" and not Path(sqlite_path(url)).is_file():
        raise ConfigError(
            f"no SQLite store at {sqlite_path(url)!r}: check --store (or $WEBSESSION_STORE); "
            "`websession setup --store URL` creates one"
        )
    if kind == "file" and not Path(local_path(url)).is_dir():
        raise ConfigError(
            f"no session directory at {local_path(url)!r}: check --store "
            "(or $WEBSESSION_STORE); `websession setup --store URL` creates one"
        )
    if kind in POSTGRES_SCHEMES:
        parts = urlsplit(url)
        if not any(name == "setup" for name, _ in parse_qsl(parts.query)):
            return url + ("&" if parts.query else "?") + "setup=false"
    return url


def _refuse_in_process(url: str, kind: str) -> None:
    if kind == "memory" or (kind == "sqlite" and sqlite_path(url) == ":memory:"):
        raise ConfigError(
            f"{url} lives inside one process, so no command can see an app's sessions "
            "there: pass the URL of the store your app uses (--store or $WEBSESSION_STORE)"
        )


def open_cli_store(url: str, *, write: bool = False) -> Store:
    """The store at ``url`` for a command; ``write`` allows creating it (setup,
    migrate's target), otherwise it must exist."""
    if write:
        kind = scheme(url, what="store", example=_EXAMPLE)
        _refuse_in_process(url, kind)
        if kind == "dual":
            read_only_url(url)  # refuses in-process inner stores
        return open_store(url)
    return open_store(read_only_url(url))


@dataclass
class Users:
    """Turns what an operator knows (a user name) into the user id sessions carry, and
    back, through the auth user store if one is configured."""

    store: UserStore | None
    url: str | None

    def resolve(self, name: str) -> str:
        """The user id for ``name`` (a user name, or an id); ConfigError if the user
        store has no such user."""
        if self.store is None:
            return name
        user = self.store.find(name) or self.store.get(name)
        if user is None:
            raise ConfigError(f"no user named {name!r} in the user store (--users)")
        return user.id

    def name(self, user_id: str | None) -> str | None:
        """The user name for ``user_id`` when the user store knows it, else the id."""
        if user_id is None or self.store is None:
            return user_id
        user = self.store.get(user_id)
        return user.username if user is not None else user_id

    @property
    def hint(self) -> str:
        """What to add to a "nothing matched" message when names are not resolved."""
        if self.store is not None:
            return ""
        return (
            " (without a user store USER is taken as a user id: pass --users URL or set "
            "WEBSESSION_USERS to use user names)"
        )

    def close(self) -> None:
        """Close the user store."""
        if self.store is not None:
            self.store.close()


def open_users(url: str | None) -> Users:
    """The user store at ``url`` (default ``$WEBSESSION_USERS``), read-only; none if
    neither is set, and then user names are taken as user ids."""
    url = url or os.environ.get("WEBSESSION_USERS") or None
    if url is None:
        return Users(None, None)
    from websession.auth.userstores import open_user_store

    return Users(open_user_store(read_only_url(url)), url)
