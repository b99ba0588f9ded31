"""`make faults`: the fault suite against real processes on loopback (docs/reliability.md).

    .venv/bin/python -m faults.run [--scenarios F1,F2] [--n 3] [--scale 10] [--seconds 10]

`--n`: kills per crash point (F1) and kill cycles (F5); `--scale`: tickets per scenario (F2 opens
20 x scale refunds, F6 10 x scale timers per phase); `--seconds`: the downtime of F6 and a third
of F7's churn. A throwaway PostgreSQL 15 (tests/postgres.py, commits durable) serves every
scenario a fresh database; F5 uses a SQLite file. Exits 1 when an invariant fails.
"""

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

from faults.cluster import close_run
from faults.scenarios import SCENARIOS, Context
from tests.postgres import TempPostgres


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="faults", description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--n", type=int, default=3)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (process logs)")
    args = parser.parse_args(argv)
    names = [s.strip().upper() for s in args.scenarios.split(",") if s.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {', '.join(SCENARIOS)}")
    workdir = Path(tempfile.mkdtemp(prefix="ticketflow-faults-"))
    server = TempPostgres(durable=True)
    server.url = server.start()
    ctx = Context(server, workdir, args.n, args.scale, args.seconds)
    results, failed = {}, []
    try:
        for name in names:
            print(f"== {name}: {SCENARIOS[name].__doc__.split(chr(10))[0]}", flush=True)
            started = time.monotonic()
            try:
                figures = SCENARIOS[name](ctx)
            except Exception:  # a scenario that could not run is a failure with its trace
                figures = {"problems": [traceback.format_exc()]}
            figures = figures if "problems" in figures else {**figures, "problems": _problems(figures)}
            figures["seconds"] = round(time.monotonic() - started, 1)
            results[name] = figures
            print(json.dumps(figures, indent=1, default=str), flush=True)
            if figures["problems"]:
                failed.append(name)
            print(
                f"== {name}: {'FAILED' if figures['problems'] else 'ok'} in {figures['seconds']} s",
                flush=True,
            )
    finally:
        server.stop()
        close_run(workdir, args.keep or bool(failed), args.json, results)
    print(
        f"fault suite: {len(names) - len(failed)} of {len(names)} scenario(s) green"
        + (f"; failed: {failed}" if failed else "")
    )
    return 1 if failed else 0


def _problems(figures: dict) -> list:
    """A scenario of parts (F1: one per crash point): the parts' problems, named."""
    return [
        f"{part}: {p}"
        for part, value in figures.items()
        if isinstance(value, dict)
        for p in value.get("problems", [])
    ]


if __name__ == "__main__":
    sys.exit(main())
