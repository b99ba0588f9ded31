"""One row per diagram: both runs, each in a forked child with a time budget.

A hostile or looping diagram costs a row, never the bench.
"""

import multiprocessing
import os
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from bench.corpus.api import run_ticketflow
from bench.corpus.bare import run_bare
from bench.corpus.dataset import build_bundle, operators_in

BARE_BUDGET = 20.0  # seconds per diagram on bare SpiffWorkflow
TICKETFLOW_BUDGET = 90.0  # seconds per diagram through the API (app, schema, deploy, drive)


@dataclass
class Row:
    id: str
    source: str
    bare: str
    bare_where: str
    accepted: bool
    errors: list
    ran_to_end: bool
    where: str
    notes: list
    bundle: str
    broken: bool = False
    operators: list = field(default_factory=list)  # spiffworkflow:serviceTaskOperator ids in the bundle
    known_operators: list = field(default_factory=list)  # operators the Ticketflow under test handles

    @property
    def bare_runs(self) -> bool:
        return self.bare == "runs to end"

    @property
    def by_design(self) -> bool:
        """Refused only for service operators Ticketflow has no handler for (named as such)."""
        return (
            bool(self.errors)
            and all("serviceTaskOperator" in e["message"] for e in self.errors)
            and not set(self.operators) & set(self.known_operators)
        )

    @property
    def refused(self) -> bool:
        return not self.accepted and not self.broken

    @property
    def server_error(self) -> bool:
        """The deploy answered 5xx: a crash, never a justified refusal."""
        return any(e["message"].startswith("HTTP 5") for e in self.errors)

    @property
    def false_refusal(self) -> bool:
        return self.refused and self.bare_runs and not self.by_design

    @property
    def verdict(self) -> str:
        if self.accepted:
            return "accepted"
        if self.broken:
            return "DRIVER ERROR"
        if self.server_error:
            return "DEPLOY 5xx"
        return "FALSE REFUSAL" if self.false_refusal else "refused"


def run_one(corpus: Path, diagram_id: str, source: str, decisions, variant: Path | None = None) -> Row:
    bundle = build_bundle(corpus, diagram_id, decisions, variant)
    bare = isolated(run_bare, (bundle,), BARE_BUDGET)
    if "error" in bare:
        bare = {"result": "fails", "where": bare["error"]}
    with tempfile.TemporaryDirectory(prefix="ticketflow-corpus-") as folder:  # removed even after a kill
        tf = isolated(run_ticketflow, (bundle, bare.get("process"), folder), TICKETFLOW_BUDGET)
    if "error" in tf:  # the run broke (timeout, import error, crash): neither accepted nor refused
        tf = {"accepted": False, "errors": [], "ran_to_end": False, "where": tf["error"], "broken": True}
    files = [p.name for p in bundle.files()]
    extra = [f"missing form {n}" for n in bundle.missing_forms] + [
        f"missing decision {d}" for d in bundle.missing_decisions
    ]
    return Row(
        diagram_id,
        source,
        bare["result"],
        bare.get("where", ""),
        tf.get("accepted", False),
        tf.get("errors", []),
        tf.get("ran_to_end", False),
        tf.get("where", ""),
        tf.get("notes", []) + extra,
        ", ".join(files),
        tf.get("broken", False),
        operators_in(bundle),
        tf.get("known_operators", []),
    )


def isolated(fn, args: tuple, budget: float) -> dict:
    """Run fn(*args) in a forked child; its dict result, or an error row on timeout or crash."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(fn, args, sender), daemon=True)
    child.start()
    sender.close()
    try:
        if receiver.poll(budget):
            return receiver.recv()
        return {"error": f"no answer within {budget:.0f} s (stopped)"}
    except EOFError:
        return {"error": f"the run crashed (exit code {child.exitcode})"}
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receiver.close()


def _child(fn, args, sender) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)  # diagrams' print() calls stay out of the table
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")
    try:
        result = fn(*args)
    except BaseException as exc:  # the row says what broke; the bench goes on
        result = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc(limit=6)}
    try:
        sender.send(result)
    finally:
        sender.close()
        os._exit(0)
