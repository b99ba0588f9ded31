"""The counters' upsert, shared by every pre-aggregated table: `INSERT ... ON CONFLICT (key) DO
UPDATE SET c = c + excluded.c` for each counter column, built once per dialect and table.

Building one costs more than running it (each `excluded` access makes a new alias: about 1 ms
under the profiler), and every command that touches a ticket runs several, so the statement is
cached; SQLAlchemy then finds its compiled form in its own cache.
"""

from functools import cache

from sqlalchemy.dialects import postgresql, sqlite


def add_counts(session, table, keys: tuple[str, ...], counters: tuple[str, ...], rows: list[dict]) -> None:
    """Add each row's counters to the table's row of its key (inserted when missing): one
    statement on the session's connection (an executemany for several rows), nothing to flush."""
    if rows:
        statement = _statement(session.get_bind().dialect.name, table, keys, counters)
        session.connection().execute(statement, rows[0] if len(rows) == 1 else rows)


@cache
def _statement(dialect: str, table, keys: tuple[str, ...], counters: tuple[str, ...]):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    excluded = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: table.c[c] + excluded[c] for c in counters}
    )
