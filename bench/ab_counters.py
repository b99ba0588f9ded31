"""The counters' one statement on PostgreSQL against separate upserts (app/stats/upsert.py), taking turns.

`python -m bench.ab_counters [--blocks N]`: blocks of 100 starts and then 100 completions through
the test client on a throwaway PostgreSQL, `keep_counts` switched off for one side of each pair
of blocks (the order alternates); prints the median wall and CPU milliseconds per request of each
side. Both sides run the same code otherwise, in one process, so the machine's swing falls on both.
"""

import argparse
import statistics
import time

import app.engine.runtime.history as history
import app.stats.upsert as upsert
from bench.http_bench import _drain, _task_ids, ticket_body
from bench.world import ANSWER_LATER, postgres_url, prepare

BLOCK = 100


def _timed(calls) -> tuple[float, float]:
    """Wall and CPU milliseconds per call of `calls` (a list of thunks)."""
    wall, cpu = time.perf_counter(), time.process_time()
    for call in calls:
        call()
    return (time.perf_counter() - wall) * 1000 / len(calls), (time.process_time() - cpu) * 1000 / len(calls)


def _switch(keep_counts) -> None:
    """`keep_counts` where the command's history and its commit call it."""
    upsert.keep_counts = history.keep_counts = keep_counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=8, help="pairs of blocks (default 8)")
    args = parser.parse_args()
    keep = upsert.keep_counts
    with postgres_url() as url:
        if url is None:
            raise SystemExit("no PostgreSQL binaries: see `make postgres-binaries`")
        world = prepare("postgresql", url)
        client = world.app.test_client()
        headers = {"Authorization": f"Bearer {world.token}"}

        def start() -> int:
            return client.post("/api/v1/tickets", json=ticket_body(world), headers=headers).json["id"]

        for _ in range(50):  # warm: compiled statements, prepared plans
            start()
        figures = {True: {"start": [], "complete": []}, False: {"start": [], "complete": []}}
        try:
            for block in range(args.blocks):
                for one_statement in (True, False) if block % 2 == 0 else (False, True):
                    _switch(keep if one_statement else (lambda session: None))
                    ids = []
                    opening = [lambda ids=ids: ids.append(start())] * BLOCK
                    figures[one_statement]["start"].append(_timed(opening))
                    _drain(world)
                    tasks = _task_ids(world, ids)
                    complete = [
                        lambda t=t: client.post(
                            f"/api/v1/tasks/{t}/complete", json={"data": ANSWER_LATER}, headers=headers
                        )
                        for t in tasks
                    ]
                    figures[one_statement]["complete"].append(_timed(complete))
        finally:
            _switch(keep)
    for one_statement, label in ((True, "one statement"), (False, "separate upserts")):
        cells = []
        for request in ("start", "complete"):
            runs = figures[one_statement][request]
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            cells.append(f"{request} {wall:.2f} ms wall, {cpu:.2f} ms cpu")
        print(f"{label:<17} " + "; ".join(cells))


if __name__ == "__main__":
    main()
