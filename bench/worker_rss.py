"""A worker's memory over many jobs and timers: `python -m bench.worker_rss [--items 100000]`.

On a throwaway PostgreSQL (`--backend sqlite`: a SQLite file), migrated to head: a tiny diagram
(start -> a service task `backoffice.request`, run by the worker as a job -> a one-second timer
-> end), and one real `flask worker` process in the production settings. This process opens
`--items / 2` tickets through the engine (each leaves one job, then one timer, for the worker)
while the worker runs them; the worker's resident memory (VmRSS) is sampled every few seconds.
Prints RSS against items done, and the worker's rate. The issue's target: under 200 MB after
100,000 jobs.
"""

import argparse
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import func

from app import create_app
from app.engine import deploy, start_process
from app.extensions import db
from app.models import ProcessInstance
from bench.world import postgres_url, quiet_logging, sqlite_url
from faults.cluster import Proc
from tests.factories import make_customer

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SECONDS = 5
RSSFLOW = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="rss" targetNamespace="http://ticketflow.test">
<bpmn:process id="rssflow" name="Worker memory" isExecutable="true">
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:serviceTask id="raise" name="Ask the warehouse">
    <bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="backoffice.request" resultVariable="asked">
        <spiffworkflow:parameters>
          <spiffworkflow:parameter id="system" type="str" value="&quot;warehouse&quot;"/>
          <spiffworkflow:parameter id="action" type="str" value="&quot;count&quot;"/>
          <spiffworkflow:parameter id="reference" type="str" value="&quot;RSS-1&quot;"/>
        </spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator>
    </bpmn:extensionElements>
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:serviceTask>
  <bpmn:intermediateCatchEvent id="wait" name="Wait">
    <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1S"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:endEvent id="done"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="raise"/>
  <bpmn:sequenceFlow id="f2" sourceRef="raise" targetRef="wait"/>
  <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="done"/>
</bpmn:process>
</bpmn:definitions>
"""


def run(url: str, items: int) -> list[tuple[float, int, float]]:
    """Samples (seconds, items done, worker RSS in MB) until every ticket has ended."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    quiet_logging()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    tickets = items // 2
    with app.app_context():
        upgrade()
        deploy(RSSFLOW.encode(), actor="bench")
        customer_id = make_customer().id
        db.session.remove()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TICKETFLOW_ENV": "production",
        "SECRET_KEY": "worker-rss-bench-secret-key-not-for-production-0123456789",
        "LOG_LEVEL": "WARNING",
        "MAIL_CATCHER": "0",
    }
    log = Path(tempfile.mkdtemp(prefix="ticketflow-rss-")) / "worker.log"
    worker = Proc("worker", [sys.executable, "-m", "flask", "--app", "wsgi", "worker"], env, log)
    samples: list[tuple[float, int, float]] = []
    started = time.monotonic()
    finished = threading.Event()

    def sample() -> None:
        with app.app_context():
            while not finished.wait(SAMPLE_SECONDS):
                ended = db.session.execute(
                    db.select(func.count()).where(ProcessInstance.status == "completed")
                ).scalar()
                db.session.remove()
                samples.append((time.monotonic() - started, 2 * ended, worker.rss_mb()))
                print(
                    f"  {samples[-1][0]:7.0f} s  {samples[-1][1]:>8,} items  {samples[-1][2]:6.1f} MB",
                    flush=True,
                )
                if ended >= tickets:
                    return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        with app.app_context():
            for _ in range(tickets):
                start_process("rssflow", customer_id, "Worker memory", {}, actor="bench")
                db.session.remove()
        sampler.join()
    finally:
        finished.set()
        worker.term(30)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker_rss", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--items", type=int, default=100_000, help="jobs + timers for the worker (default 100000)"
    )
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    context = sqlite_url() if args.backend == "sqlite" else postgres_url()
    with context as url:
        if url is None:
            return 1
        samples = run(url, args.items)
    if not samples:
        return 1
    first = next((s for s in samples if s[1] > 0), samples[0])
    last = samples[-1]
    rate = (last[1] - first[1]) / max(last[0] - first[0], 1e-9)
    print(
        f"\n{args.backend}: {last[1]:,} jobs and timers in {last[0]:.0f} s ({rate:.0f}/s while both ran); "
        f"worker RSS {first[2]:.1f} MB at {first[1]:,} items, {max(s[2] for s in samples):.1f} MB at most, "
        f"{last[2]:.1f} MB at the end; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
