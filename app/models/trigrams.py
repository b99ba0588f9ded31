"""PostgreSQL's trigram index on customer names, made where the server offers `pg_trgm`.

The inbox's customer filter finds the names that contain a text (`ILIKE '%berg%'`). Without an
index that is a scan of every customer in each request; a GIN index of the name's trigrams reads
the matching rows. The extension ships with PostgreSQL's contrib and is trusted (a database owner
may create it), but a server may lack it: then the index is left out and the same query scans.
"""

from sqlalchemy import Index, text
from sqlalchemy.exc import DBAPIError

NAME_INDEX = "ix_customer_name_trgm"


def ready(bind) -> bool:
    """Whether `pg_trgm` is in the database of `bind`, creating it when the server has it."""
    if bind is None or bind.dialect.name != "postgresql":
        return False
    if _installed(bind):
        return True
    if not bind.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first():
        return False
    try:
        with bind.begin_nested():
            bind.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except DBAPIError:  # no privilege to create it: the filter scans
        return False
    return True


def _when_ready(ddl, target, bind, **kw) -> bool:
    return ready(bind)


def name_index(column) -> Index:
    """The trigram index of `column`, created by `create_all` only where `ready` says so."""
    index = Index(NAME_INDEX, column, postgresql_using="gin", postgresql_ops={column.key: "gin_trgm_ops"})
    return index.ddl_if(callable_=_when_ready)


def include_object(connection):
    """Alembic's `include_object` for `connection`: the trigram index is part of the schema only
    where the database has the extension (so comparing the models with SQLite leaves it out). The
    database is asked when autogenerate first compares the index, not before."""
    present = []

    def include(obj, name, type_, reflected, compare_to) -> bool:
        if type_ != "index" or name != NAME_INDEX:
            return True
        if not present:
            present.append(connection.dialect.name == "postgresql" and _installed(connection))
        return present[0]

    return include


def _installed(connection) -> bool:
    return bool(connection.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first())
