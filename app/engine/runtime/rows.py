"""Several rows of one table in one INSERT, without the ORM: a command's history, a ticket's fields.

A Core executemany sends one INSERT per row. SQLite runs them as one prepared statement stepped
once a row, which is cheap in-process. On PostgreSQL psycopg pipelines them, but the server still
binds and runs the statement once a row: seven times for a new ticket's history. There the rows
go as one array per column, `INSERT INTO t (a, b) SELECT * FROM unnest($1::a_type[],
$2::b_type[])`, in binary (psycopg quotes text arrays with a regular expression per element). The
statement's text is the same whatever the number of rows, so psycopg prepares it once per
connection. Each value goes through its column's bind processor first, as SQLAlchemy would do:
JSON is wrapped for JSONB and aware times become naive UTC.
"""

from functools import lru_cache

from sqlalchemy import Table


def insert_rows(connection, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (dicts with the same keys, column names of `table`) on `connection`."""
    if not rows:
        return
    if len(rows) == 1 or connection.dialect.name != "postgresql":
        connection.execute(table.insert(), rows[0] if len(rows) == 1 else rows)
        return
    columns = tuple(rows[0])
    sql, processors = _unnest(table, columns, connection.dialect)
    params = {
        f"c{i}": [row[column] for row in rows] if process is None else [process(row[column]) for row in rows]
        for i, (column, process) in enumerate(zip(columns, processors, strict=True))
    }
    connection.exec_driver_sql(sql, params)


@lru_cache(maxsize=32)
def _unnest(table: Table, columns: tuple[str, ...], dialect) -> tuple[str, tuple]:
    """The statement's text for these columns, and each column's bind processor (or None)."""
    preparer = dialect.identifier_preparer
    arrays = ", ".join(
        f"%(c{i})b::{table.c[column].type.compile(dialect)}[]" for i, column in enumerate(columns)
    )
    sql = (
        f"INSERT INTO {preparer.format_table(table)} ({', '.join(preparer.quote(c) for c in columns)}) "
        f"SELECT * FROM unnest({arrays})"
    )
    return sql, tuple(
        table.c[column].type.dialect_impl(dialect).bind_processor(dialect) for column in columns
    )
