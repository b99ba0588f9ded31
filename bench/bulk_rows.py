"""How the dashboard bench's cloned rows go in: COPY on PostgreSQL, executemany in batches elsewhere.

COPY takes the rows as they are for an INSERT: each value goes through its column type's bind
processor first (aware UTC times made naive, JSON wrapped for psycopg), so both paths store the
same rows. Keys a row leaves out (an `id` left to its sequence) are left out of the column list.

On PostgreSQL the tables loaded are analyzed each time their rows have doubled: the foreign-key
checks run cached plans, and a plan made while `ticket` held a few rows reads the whole table for
every row that refers to it (the load grew quadratically: 4 s for the first 10,000 tickets, 40 s
for the next 10,000).
"""

from collections import defaultdict

from sqlalchemy import insert, text

BATCH = 5000


class Sink:
    """Rows per table, written every 4 × BATCH rows in the given (foreign-key) order and committed."""

    def __init__(self, session, order: list):
        self.session = session
        self.order = order
        self.rows = defaultdict(list)
        self.count = defaultdict(int)
        self.analyzed = defaultdict(int)  # table name: its rows loaded when it was last analyzed

    def add(self, table, row: dict) -> None:
        self.rows[table].append(row)

    def flush(self, force: bool = False) -> None:
        if not force and sum(len(v) for v in self.rows.values()) < BATCH * 4:
            return
        for table in self.order:
            rows = self.rows.pop(table, None)
            if rows:
                write_rows(self.session, table, rows)
                self.count[table.name] += len(rows)
        self.session.commit()
        if self.session.get_bind().dialect.name == "postgresql":
            for name, count in self.count.items():
                if count >= 2 * max(self.analyzed[name], 500):
                    self.session.execute(text(f"ANALYZE {name}"))
                    self.analyzed[name] = count
            self.session.commit()


def write_rows(session, table, rows: list[dict]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in the session's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        _copy(session, table, rows)
        return
    for start in range(0, len(rows), BATCH):
        session.execute(insert(table), rows[start : start + BATCH])


def _copy(session, table, rows: list[dict]) -> None:
    dialect = session.get_bind().dialect
    keys = list(rows[0])
    columns = [table.c[key] for key in keys]
    processors = [column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns]
    names = ", ".join(dialect.identifier_preparer.quote(column.name) for column in columns)
    driver = session.connection().connection.driver_connection  # psycopg 3, in the session's transaction
    with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            values = (row[key] for key in keys)
            copy.write_row([v if p is None else p(v) for v, p in zip(values, processors, strict=True)])
