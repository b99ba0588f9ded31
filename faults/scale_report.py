"""The scale run's figures as a Markdown table, one column per configuration."""


def table(results: list[dict]) -> str:
    """The figures of each configuration side by side (Markdown)."""
    kinds = list(results[0]["requests"]) if results else []
    rows = [
        ("tickets", lambda r: f"{r['tickets']:,}"),
        ("tickets/s opened", lambda r: r["tickets_per_s_opened"]),
        ("tickets/s end to end", lambda r: r["tickets_per_s_end_to_end"]),
        ("task completions/s", lambda r: r["completions_per_s"]),
        ("service tasks/s", lambda r: r["service_tasks_per_s"]),
        *[
            (
                f"{kind} p50 / p99 ms",
                lambda r, k=kind: f"{r['requests'][k]['p50_ms']} / {r['requests'][k]['p99_ms']}",
            )
            for kind in kinds
        ],
        ("timer lag p50 / p99 s", lambda r: f"{r['timer_lag_p50_s']} / {r['timer_lag_p99_s']}"),
        ("backlog drained after the last open", lambda r: f"{r['drain_s']} s"),
        ("run (open to drained)", lambda r: f"{r['seconds']} s"),
        ("CPU s web", lambda r: r["cpu_s"]["web"]),
        (
            "CPU s workers",
            lambda r: round(sum(v for k, v in r["cpu_s"].items() if k.startswith("worker")), 1),
        ),
        ("CPU s PostgreSQL", lambda r: r["cpu_s"].get("postgres", 0)),
        ("CPU s clients", lambda r: r["cpu_s"]["clients"]),
        ("CPU ms per ticket (web / workers / PG)", _per_ticket),
        ("PostgreSQL commits/s", lambda r: r.get("commits_per_s", "–")),
        ("PostgreSQL busy backends (mean, by wait)", _waits),
        ("load average start / mean / max", lambda r: "{start} / {mean} / {max}".format(**r["load_average"])),
        ("lost / duplicate payments / timers or jobs twice", _invariants),
    ]
    lines = ["| | " + " | ".join(r["config"] for r in results) + " |", "| --- |" + " --- |" * len(results)]
    lines += [f"| {label} | " + " | ".join(str(f(r)) for r in results) + " |" for label, f in rows]
    return "\n".join(lines)


def _per_ticket(r: dict) -> str:
    workers = sum(v for k, v in r["cpu_s"].items() if k.startswith("worker"))
    n = max(1, r["tickets"])
    return " / ".join(
        str(round(1000 * v / n, 1)) for v in (r["cpu_s"]["web"], workers, r["cpu_s"].get("postgres", 0))
    )


def _waits(r: dict) -> str:
    waits = r.get("pg_busy_backends") or {}
    return ", ".join(f"{k} {v}" for k, v in list(waits.items())[:4]) or "–"


def _invariants(r: dict) -> str:
    c = r["checker"]
    twice = c.get("timers_fired_twice", 0) + c.get("jobs_completed_twice", 0)
    return f"{c.get('lost')} / {c.get('duplicates')} / {twice}"
