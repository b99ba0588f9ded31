"""Several rows of one table in one INSERT, without the ORM: a command's history, a ticket's fields.

A Core executemany sends one INSERT per row. SQLite runs them as one prepared statement stepped
once a row, which is cheap in-process. On PostgreSQL psycopg pipelines them, but the server still
binds and runs the statement once a row: seven times for a new ticket's history. There the rows
go as one array per column, `INSERT INTO t (a, b) SELECT * FROM unnest($1::a_type[],
$2::b_type[])`, in binary (psycopg quotes text arrays with a regular expression per element). The
statement's text is the same whatever the number of rows, so psycopg prepares it once per
connection. Each value goes through its column's bind processor first, as SQLAlchemy would do:
JSON is wrapped for JSONB and aware times become naive UTC. The arrays are cast to the columns'
types without their lengths: an explicit cast to `VARCHAR(80)` would cut a longer value without
a word, where the INSERT into the column refuses it, as the executemany did.

Every row names the same columns (no Python-side defaults are applied): rows that differ raise
ValueError, where a Core executemany would drop the values that the first row does not name.
"""

from functools import lru_cache

from sqlalchemy import String, Table


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


def unnest_insert(table: Table, rows: list[dict], dialect) -> tuple[str, dict]:
    """PostgreSQL: the text and parameters of one INSERT of `rows` as arrays (`c0`, `c1`, ...),
    to send as it is or as part of another statement.

    Raises:
        ValueError: the rows name different columns.
    """
    _same_columns(table, rows)
    columns = tuple(rows[0].keys())
    sql, processors = _unnest(table, columns, dialect)
    params = {
        f"c{i}": [row[column] for row in rows] if process is None else [process(row[column]) for row in rows]
        for i, (column, process) in enumerate(zip(columns, processors, strict=True))
    }
    return sql, params


def _same_columns(table: Table, rows: list[dict]) -> None:
    keys = rows[0].keys()
    if any(row.keys() != keys for row in rows):  # an executemany would drop the later rows' extra values
        raise ValueError(f"rows for {table.name} name different columns")


@lru_cache(maxsize=32)
def _unnest(table: Table, columns: tuple[str, ...], dialect) -> tuple[str, tuple]:
    """The statement's text for these columns, and each column's bind processor (or None)."""
    preparer = dialect.identifier_preparer
    arrays = ", ".join(
        f"%(c{i})b::{_unbounded(table.c[column].type).compile(dialect)}[]" for i, column in enumerate(columns)
    )
    sql = (
        f"INSERT INTO {preparer.format_table(table)} ({', '.join(preparer.quote(c) for c in columns)}) "
        f"SELECT * FROM unnest({arrays})"
    )
    return sql, tuple(
        table.c[column].type.dialect_impl(dialect).bind_processor(dialect) for column in columns
    )


def _unbounded(type_):
    """A string type without its length (the column checks it); any other type as it is."""
    if isinstance(type_, String) and type_.length is not None:
        return type_.adapt(type(type_), length=None)
    return type_
