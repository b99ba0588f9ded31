"""The counters' upsert, shared by every pre-aggregated table: `INSERT ... ON CONFLICT (key) DO
UPDATE SET c = c + excluded.c` for each counter column, built once per dialect and table.

Building one costs more than running it (each `excluded` access makes a new alias: about 1 ms
under the profiler), and every command that touches a ticket runs several, so the statement is
cached; SQLAlchemy then finds its compiled form in its own cache.

On PostgreSQL a command's upserts go in one statement (`batched`): the dashboard's counters that
`history.write` brings up to date and the list counts written at the commit are kept until the
commit and sent as data-modifying CTEs of one `WITH ... SELECT`, instead of up to six statements.
The command's INSERTs of rows that nothing reads again before the commit (its history, a new
ticket's fields, its `ticket_stat` and `ticket_agent` rows) go in the same statement
(`keep_insert`), run before the upserts.
PostgreSQL runs those in a fixed order, and the tables always come in the same order (`_RANK`),
each table's rows sorted by key, so two commands still lock the shared rows in the same order. A
rollback forgets what was kept.
"""

import re
from contextlib import contextmanager
from functools import cache, lru_cache

from sqlalchemy import bindparam, event, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# psycopg converts a statement's `%(name)s` placeholders once and caches the result only for a
# statement of at most 4,096 characters and 50 parameters (its `MAX_CACHED_STATEMENT_*`).
CACHED_STATEMENT_LENGTH = 32_768
CACHED_STATEMENT_PARAMS = 1_000

_KEPT = "ticketflow_counts_kept"  # session.info: table name -> (table, keys, counters, {key: row})
_FIRST = "ticketflow_inserts_kept"  # session.info: [(sql, params)] of INSERTs sent before the upserts
# The order the tables are locked in: the shared dashboard counters first, then the list counts.
_RANK = (
    "daily_stat",
    "duration_stat",
    "element_stat",
    "ticket_count",
    "ticket_field_count",
    "ticket_day_count",
)
_MAX_ROWS = 16  # rows per table in one combined statement; a larger batch goes table by table


def cache_long_statements() -> None:
    """Let psycopg cache the conversion of the commit's combined statement too.

    A start's is about 7,000 characters with 130 parameters, above psycopg's limits, so psycopg
    parsed its text again at every command (0.23 ms, 3 % of a web worker's time under load).
    psycopg keeps those limits low against ORMs that send `INSERT ... VALUES` with ever-changing
    numbers of rows, which would fill its cache with big texts; the combined statements come in a
    few shapes, cached here as well (`_combined`, `_ctes`, `_after`), and psycopg's cache keeps
    128 statements, so at most a few megabytes of them. The limits are module constants of
    psycopg that it reads at each conversion; there is no setting.
    """
    from psycopg import _queries

    _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, CACHED_STATEMENT_LENGTH)
    _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, CACHED_STATEMENT_PARAMS)


def add_counts(session, table, keys: tuple[str, ...], counters: tuple[str, ...], rows: list[dict]) -> None:
    """Add each row's counters to the table's row of its key (inserted when missing): one
    statement on the session's connection (an executemany for several rows), nothing to flush;
    kept for the command's one statement instead while `batched` is on."""
    if not rows:
        return
    kept = session.info.get(_KEPT)
    if kept is not None:
        _keep(kept, table, keys, counters, rows)
        return
    statement = _statement(session.get_bind().dialect.name, table, keys, counters)
    session.connection().execute(statement, rows[0] if len(rows) == 1 else rows)


def keep_counts(session) -> None:
    """From now until the commit, keep the counters' upserts for one statement (PostgreSQL only:
    SQLite has no data-modifying CTEs). `batched` at the commit writes them."""
    if _KEPT not in session.info and session.get_bind().dialect.name == "postgresql":
        session.connection()  # in a transaction, whose end forgets what is kept
        session.info[_KEPT] = {}


def keep_insert(session, sql: str, params: dict) -> bool:
    """Keep an INSERT's text and parameters (`%(name)s` or `%(name)b` placeholders) to run in the
    command's one statement at the commit, before the upserts; False when nothing is kept (SQLite,
    or no `keep_counts` yet): the caller sends it itself. Each kept INSERT's parameters are renamed
    in that statement (`k<i>_<name>`), so two may use the same names."""
    if _KEPT not in session.info:
        return False
    session.info.setdefault(_FIRST, []).append((sql, params))
    return True


@contextmanager
def batched(session):
    """Keep the upserts made inside (and before, since `keep_counts`), then write them all."""
    keep_counts(session)
    yield
    kept = session.info.pop(_KEPT, None)
    first = session.info.pop(_FIRST, None)
    if kept or first:
        _write(session, kept or {}, first)


def _keep(kept: dict, table, keys, counters, rows: list[dict]) -> None:
    entry = kept.setdefault(table.name, (table, keys, counters, {}))
    by_key = entry[3]
    for row in rows:
        key = tuple(row[k] for k in keys)
        known = by_key.get(key)
        if known is None:
            by_key[key] = dict(row)
        else:  # the same key twice: one row (a statement may not change a row twice)
            for c in counters:
                known[c] += row[c]


def _write(session, kept: dict, first: list | None = None) -> None:
    """The kept upserts in the tables' order (`_RANK`): consecutive tables in one statement, a
    table of more than `_MAX_ROWS` rows on its own between them, so the order holds either way.
    The kept INSERTs (`first`) go in the first statement, or alone before a table on its own."""
    ordered = sorted(
        kept.values(), key=lambda entry: _RANK.index(entry[0].name) if entry[0].name in _RANK else 99
    )
    group = []
    for table, keys, counters, by_key in ordered:
        rows = [by_key[k] for k in sorted(by_key, key=_sort_key)]
        if len(rows) > _MAX_ROWS:  # too many shapes to keep compiled: this table on its own
            _send(session, group, first)
            first, group = None, []
            session.connection().execute(_statement("postgresql", table, keys, counters), rows)
        else:
            group.append((table, keys, counters, rows))
    _send(session, group, first)


def _send(session, tables: list[tuple], first: list | None = None) -> None:
    """Tables' upserts, each with its rows, in one statement (the plain upsert for one table),
    after the INSERTs `first` when given (alone without tables)."""
    connection = session.connection()
    if not tables:
        if len(first or ()) == 1:
            connection.exec_driver_sql(*first[0])
        elif first:
            ctes, params = _inserts(first)
            connection.exec_driver_sql(f"WITH {ctes}\nSELECT 1", params)
        return
    if len(tables) == 1 and not first:
        table, keys, counters, rows = tables[0]
        statement = _statement("postgresql", table, keys, counters)
        connection.execute(statement, rows[0] if len(rows) == 1 else rows)
        return
    shape = tuple((table, keys, counters, len(rows)) for table, keys, counters, rows in tables)
    params = {
        f"t{i}r{j}_{column}": value
        for i, (_, _, _, rows) in enumerate(tables)
        for j, row in enumerate(rows)
        for column, value in row.items()
    }
    sql = _combined(shape, connection.dialect)
    if first:
        ctes, more = _inserts(first)
        sql = _after(ctes, sql)
        params.update(more)
    connection.exec_driver_sql(sql, params)


def _inserts(kept: list[tuple[str, dict]]) -> tuple[str, dict]:
    """The kept INSERTs as CTEs `h0 AS (...), h1 AS (...)`, each one's parameters renamed
    `k<i>_<name>`, and those parameters."""
    params = {f"k{i}_{name}": value for i, (_, values) in enumerate(kept) for name, value in values.items()}
    return _ctes(tuple(text for text, _ in kept)), params


@lru_cache(maxsize=256)
def _ctes(texts: tuple[str, ...]) -> str:
    renamed = [_PLACEHOLDER.sub(rf"%(k{i}_\1)", text) for i, text in enumerate(texts)]
    return ", ".join(f"h{i} AS ({text})" for i, text in enumerate(renamed))


_PLACEHOLDER = re.compile(r"%\((\w+)\)")


@lru_cache(maxsize=256)
def _after(ctes: str, combined: str) -> str:
    """`combined` with `ctes` (`_ctes`) last, which PostgreSQL runs first (see `_combined`)."""
    head, _, tail = combined.rpartition("SELECT 1")
    return f"{head.rstrip()}, {ctes}\nSELECT 1{tail}"


def _sort_key(key: tuple) -> tuple:
    """A key's sort order; a None sorts first."""
    return tuple((value is not None, value if value is not None else 0) for value in key)


@lru_cache(maxsize=256)
def _combined(shape: tuple, dialect) -> str:
    """`WITH t0 AS (INSERT ...), t1 AS (INSERT ...) SELECT 1` for tables of so many rows, compiled
    once per shape: the driver gets the SQL text, as SQLAlchemy would send it, without
    SQLAlchemy's per-execution work on a statement of so many parameters (its cache key walks the
    whole statement; that cost more than the statements it saves). The six tables hold only
    dates, strings, integers and booleans, which the driver adapts itself. PostgreSQL runs CTEs that the
    query does not read last to first, so they are listed in the reverse of the order the tables
    are locked in."""
    ctes = []
    for i, (table, keys, counters, n) in enumerate(shape):
        columns = [*keys, *counters]
        insert = postgresql.insert(table).values(
            [{c: bindparam(f"t{i}r{j}_{c}", type_=table.c[c].type) for c in columns} for j in range(n)]
        )
        excluded = insert.excluded
        upsert = insert.on_conflict_do_update(
            index_elements=list(keys), set_={c: table.c[c] + excluded[c] for c in counters}
        )
        ctes.append(upsert.cte(f"t{i}"))
    return str(select(literal_column("1")).add_cte(*reversed(ctes)).compile(dialect=dialect))


@cache
def _statement(dialect: str, table, keys: tuple[str, ...], counters: tuple[str, ...]):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    excluded = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: table.c[c] + excluded[c] for c in counters}
    )


@event.listens_for(Session, "after_soft_rollback")
def _forget(session, _previous) -> None:
    session.info.pop(_KEPT, None)
    session.info.pop(_FIRST, None)


@event.listens_for(Session, "after_transaction_end")
def _ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_KEPT, None)
        session.info.pop(_FIRST, None)
