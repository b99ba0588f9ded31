"""The scale run (`make scale`, faults/scale.py) at a tiny size, end to end: 2 gunicorn workers and
2 `flask worker`s on PostgreSQL, 30 return tickets opened and their two tasks completed over the
API, each through its five service tasks (one a job) and three (shortened) timers; the checker's invariants hold and
the figures are there. PostgreSQL only (the run is the production layout's)."""

import pytest

from faults.scale import SERVICES, TIMERS, Run
from faults.scale_report import table

TICKETS = 30


def test_a_tiny_scale_run_holds_its_invariants(postgres_url, tmp_path):
    if postgres_url is None:
        pytest.skip("the scale run needs PostgreSQL (TEST_DATABASE=postgresql)")
    figures = Run(
        postgres_url, None, tmp_path, 2, 2, TICKETS, clients=4, window=TICKETS, delay="PT1S"
    ).execute(timeout=120)
    assert figures["problems"] == []
    checked = figures["checker"]
    assert (checked["acknowledged"], checked["lost"], checked["completed"]) == (TICKETS, 0, TICKETS)
    assert (checked["provider_payments"], checked["duplicates"], checked["ledger"]) == (TICKETS, 0, TICKETS)
    assert (checked["timers_fired"], checked["timers_fired_twice"]) == (len(TIMERS) * TICKETS, 0)
    assert (figures["service_tasks"], checked["jobs_completed_twice"]) == (len(SERVICES) * TICKETS, 0)
    assert checked["completions_acknowledged"] == 2 * TICKETS
    assert {kind: r["errors"] for kind, r in figures["requests"].items()} == {
        "open": 0,
        "review_request": 0,
        "receive_item": 0,
    }
    assert figures["cpu_s"]["web"] > 0 and figures["cpu_s"]["worker 1"] > 0
    assert "| tickets | 30 |" in table([figures])
