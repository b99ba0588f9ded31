"""A command's history rows in one INSERT on PostgreSQL (app/engine/runtime/rows.py) against the
Core executemany it replaced, taking turns.

`python -m bench.ab_rows [--blocks N] [--rows R]`: blocks of 1,000 transactions on a throwaway
PostgreSQL, each inserting R history rows (7 by default, as a new general ticket writes) and
committing; one side of each pair of blocks sends them with `insert_rows`, the other with the
executemany, in alternating order, in one process. Prints the median wall, client CPU and
server CPU milliseconds per transaction of each side (the server's: its client backends' CPU from
/proc).
"""

import argparse
import statistics
import time

from app.clock import utcnow
from app.engine.runtime.rows import insert_rows
from app.extensions import db
from app.models import HistoryEvent
from bench.dashboard_bench import _cpu_of, _server_pids
from bench.world import postgres_url, prepare

BLOCK = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=6, help="pairs of blocks (default 6)")
    parser.add_argument("--rows", type=int, default=7, help="history rows per transaction (default 7)")
    args = parser.parse_args()
    table = HistoryEvent.__table__
    with postgres_url() as url:
        if url is None:
            raise SystemExit("no PostgreSQL binaries: see `make postgres-binaries`")
        world = prepare("postgresql", url)
        with world.app.app_context():

            def rows() -> list[dict]:
                at = utcnow()
                return [
                    {
                        "kind": "element_completed",
                        "ticket_id": None,
                        "instance_id": None,
                        "actor": "bench",
                        "element_id": f"element_{i}",
                        "element_name": "An element",
                        "task_id": None,
                        "data": {"n": i, "note": "a little JSON"},
                        "at": at,
                        "seconds": i,
                    }
                    for i in range(args.rows)
                ]

            def one_insert() -> None:
                insert_rows(db.session.connection(), table, rows())
                db.session.commit()

            def executemany() -> None:
                db.session.connection().execute(table.insert(), rows())
                db.session.commit()

            sides = {"one INSERT (unnest)": one_insert, "executemany": executemany}
            for send in sides.values():  # warm: compiled statements, prepared plans
                for _ in range(200):
                    send()
            figures = {name: [] for name in sides}
            server = _server_pids(world.app)
            for block in range(2 * args.blocks):
                order = list(sides.items()) if block % 2 == 0 else list(sides.items())[::-1]
                for name, send in order:
                    wall, cpu, pg = time.perf_counter(), time.process_time(), _cpu_of(server)
                    for _ in range(BLOCK):
                        send()
                    wall, cpu, pg = (
                        time.perf_counter() - wall,
                        time.process_time() - cpu,
                        _cpu_of(server) - pg,
                    )
                    figures[name].append((wall, cpu, pg))
    print(f"{args.rows} history rows and a commit, per transaction (median of {2 * args.blocks} blocks):")
    for name, runs in figures.items():
        wall, cpu, pg = (statistics.median(run[i] for run in runs) * 1000 / BLOCK for i in range(3))
        print(f"{name:<20} {wall:.3f} ms wall, {cpu:.3f} ms client cpu, {pg:.3f} ms server cpu")


if __name__ == "__main__":
    main()
