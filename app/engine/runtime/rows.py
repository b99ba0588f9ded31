"""Several rows of one table in one INSERT, without the ORM: a command's history, a ticket's fields.

A Core executemany sends one INSERT per row. SQLite runs them as one prepared statement stepped
once a row, which is cheap in-process. On PostgreSQL psycopg pipelines them, but the server still
binds and runs the statement once a row: seven times for a new ticket's history. There the rows
go as one array per column, `INSERT INTO t (a, b) SELECT * FROM unnest($1::a_type[],
$2::b_type[])`, in binary (psycopg quotes text arrays with a regular expression per element). The
statement's text is the same whatever the number of rows, so psycopg prepares it once per
connection; a single row goes as a plain `VALUES` list, whose values psycopg adapts faster. Each
value goes through its column's bind processor first, as SQLAlchemy would do: JSON is wrapped
for JSONB and aware times become naive UTC. The arrays are cast to the columns' types without
their lengths: an explicit cast to `VARCHAR(80)` would cut a longer value without a word, where
the INSERT into the column refuses it, as the executemany did.

Every row names the same columns (no Python-side defaults are applied): rows that differ raise
ValueError, where a Core executemany would drop the values that the first row does not name.

Rows that nothing reads before the commit need no statement of their own on PostgreSQL
(`insert_at_commit`, `keep_new`, `keep_changed`, `at_commit`): their INSERT or UPDATE goes in the
one statement that writes the command's counters at the commit (app/stats/upsert.py,
`keep_insert`).
"""

from functools import lru_cache

from sqlalchemy import String, Table, bindparam, inspect, update
from sqlalchemy.orm.attributes import PASSIVE_NO_INITIALIZE, set_committed_value

from app.models.changes import changed_of
from app.stats.upsert import keep_counts, keep_insert


def insert_rows(connection, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (dicts with the same keys, column names of `table`) on `connection`.

    Raises:
        ValueError: the rows name different columns.
    """
    if not rows:
        return
    _same_columns(table, rows)
    if len(rows) == 1 or connection.dialect.name != "postgresql":
        connection.execute(table.insert(), rows[0] if len(rows) == 1 else rows)
        return
    connection.exec_driver_sql(*unnest_insert(table, rows, connection.dialect))


def insert_at_commit(session, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (as `insert_rows`) that nothing reads before the commit: on PostgreSQL in the
    command's one statement at the commit, elsewhere now."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        keep_counts(session)
        if keep_insert(session, *unnest_insert(table, rows, connection.dialect)):
            return
    insert_rows(connection, table, rows)


def keep_new(session, objects: list) -> None:
    """PostgreSQL: these new ORM objects are inserted by `insert_at_commit` instead of the next
    flush, and leave the session. Only for rows that nothing reads or changes before the commit:
    a change made to one afterwards would be lost. Objects with a value left to a Python function
    or to the server, or without their key, are left to the ORM, with the rest of their class."""
    if not objects or session.get_bind().dialect.name != "postgresql":
        return
    by_class: dict[type, list] = {}
    for row in objects:
        by_class.setdefault(type(row), []).append(row)
    for cls, rows in by_class.items():
        table = cls.__table__
        values = [_values(row, table) for row in rows]
        if any(value is None for value in values):
            continue
        insert_at_commit(session, table, values)
        for row in rows:
            session.expunge(row)


def keep_changed(session, objects: list, counters: tuple[str, ...] = ()) -> None:
    """PostgreSQL: the changed columns of these persistent ORM objects are written by one UPDATE
    each in the command's one statement at the commit (`at_commit`) instead of the next flush, and
    the objects are left as if flushed. Only for rows that nothing reads or changes before the
    commit, without a version column, and that nothing deletes meanwhile (the ORM would refuse an
    UPDATE that found no row; this one finds none without a word). The columns named in `counters`
    are written as what was added to them since they were read (`c = c + 2`), so an increment
    another transaction committed meanwhile is kept. More than `_MAX_KEPT` rows are left to the
    ORM, which sends them as one executemany."""
    if not objects or len(objects) > _MAX_KEPT or session.get_bind().dialect.name != "postgresql":
        return
    for row in objects:
        table, state = row.__table__, inspect(row)
        if state.mapper.version_id_col is not None:
            continue
        column_of = {state.mapper.get_property_by_column(c).key: c.key for c in table.columns}
        changed = changed_of(
            row, [key for key, column in column_of.items() if not table.c[column].primary_key]
        )
        if not changed:
            continue
        values, added = {}, []
        for key in changed:
            column, value = column_of[key], state.dict[key]
            before = state.get_history(key, PASSIVE_NO_INITIALIZE).deleted
            if column in counters and before and isinstance(before[0], int) and isinstance(value, int):
                value -= before[0]
                added.append(column)
            values[column] = value
        keys = {
            f"{column_of[key]}_": state.dict[key] for key in column_of if table.c[column_of[key]].primary_key
        }
        at_commit(session, _update(table, tuple(values), tuple(added)), values | keys)
        for key in changed:
            set_committed_value(row, key, state.dict[key])


_MAX_KEPT = 4  # rows changed by one UPDATE each in the commit's statement; more go by the ORM


@lru_cache(maxsize=64)
def _update(table: Table, names: tuple[str, ...], added: tuple[str, ...]):
    """`UPDATE table SET name = :name, counter = counter + :counter, ... WHERE key = :key_`, built
    once per set of columns."""
    where = [c == bindparam(f"{c.key}_") for c in table.primary_key.columns]
    values = {}
    for name in names:
        value = bindparam(name, type_=table.c[name].type)
        values[name] = table.c[name] + value if name in added else value
    return update(table).where(*where).values(values)


def at_commit(session, statement, params: dict) -> None:
    """Run a Core INSERT or UPDATE whose rows nothing reads before the commit: on PostgreSQL in
    the command's one statement at the commit, elsewhere now."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        keep_counts(session)
        sql, binds = _compiled(statement, connection.dialect)
        values = {name: process(params[name]) if process else params[name] for name, process in binds}
        if keep_insert(session, sql, values):
            return
    connection.execute(statement, params)


@lru_cache(maxsize=64)
def _compiled(statement, dialect) -> tuple[str, tuple]:
    """The statement's text for the driver, and each parameter's bind processor (or None)."""
    compiled = statement.compile(dialect=dialect)
    binds = tuple(
        (name, bind.type.dialect_impl(dialect).bind_processor(dialect))
        for name, bind in compiled.binds.items()
    )
    return compiled.string, binds


def _values(row, table: Table) -> dict | None:
    """The INSERT's values of a new ORM object: its own, else its columns' plain defaults; None
    when the ORM is needed (a default computed in Python or by the server, a missing key)."""
    state = inspect(row)
    values = {}
    for column in table.columns:
        key = state.mapper.get_property_by_column(column).key
        if key in state.dict:
            values[column.key] = state.dict[key]
        elif column.server_default is not None or (
            column.default is not None and not column.default.is_scalar
        ):
            return None
        else:
            values[column.key] = column.default.arg if column.default is not None else None
        if column.primary_key and values[column.key] is None:
            return None
    return values


def unnest_insert(table: Table, rows: list[dict], dialect) -> tuple[str, dict]:
    """PostgreSQL: the text and parameters of one INSERT of `rows` as arrays (`c0`, `c1`, ...),
    to send as it is or as part of another statement. A single row goes as a plain `VALUES` list:
    psycopg adapts a value several times faster than a one-element array (a new task's row has
    about thirty columns).

    Raises:
        ValueError: the rows name different columns.
    """
    _same_columns(table, rows)
    columns = tuple(rows[0].keys())
    sql, processors = _unnest(table, columns, dialect, len(rows) == 1)
    if len(rows) == 1:
        row = rows[0]
        return sql, {
            f"c{i}": row[column] if process is None else process(row[column])
            for i, (column, process) in enumerate(zip(columns, processors, strict=True))
        }
    params = {
        f"c{i}": [row[column] for row in rows] if process is None else [process(row[column]) for row in rows]
        for i, (column, process) in enumerate(zip(columns, processors, strict=True))
    }
    return sql, params


def _same_columns(table: Table, rows: list[dict]) -> None:
    keys = rows[0].keys()
    if any(row.keys() != keys for row in rows):  # an executemany would drop the later rows' extra values
        raise ValueError(f"rows for {table.name} name different columns")


@lru_cache(maxsize=64)
def _unnest(table: Table, columns: tuple[str, ...], dialect, single: bool) -> tuple[str, tuple]:
    """The statement's text for these columns (`single`: one row's `VALUES`), and each column's
    bind processor (or None)."""
    preparer = dialect.identifier_preparer
    into = f"INSERT INTO {preparer.format_table(table)} ({', '.join(preparer.quote(c) for c in columns)})"
    if single:  # each value takes its column's type, as in the ORM's INSERT
        sql = f"{into} VALUES ({', '.join(f'%(c{i})s' for i in range(len(columns)))})"
    else:
        arrays = ", ".join(
            f"%(c{i})b::{_unbounded(table.c[column].type).compile(dialect)}[]"
            for i, column in enumerate(columns)
        )
        sql = f"{into} SELECT * FROM unnest({arrays})"
    return sql, tuple(
        table.c[column].type.dialect_impl(dialect).bind_processor(dialect) for column in columns
    )


def _unbounded(type_):
    """A string type without its length (the column checks it); any other type as it is."""
    if isinstance(type_, String) and type_.length is not None:
        return type_.adapt(type(type_), length=None)
    return type_
