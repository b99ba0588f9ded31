"""Where a command's time goes: cProfile over a few starts and completions (`--profile`).

Two views per command, in ms per call: self time grouped by library (adds up to the total),
and the inclusive time of the engine's stages (these overlap: `save` contains `dump_workflow`).
"""

import cProfile
import pstats
from collections import defaultdict

from app.engine import complete_task
from app.extensions import db
from app.models import User
from app.worker import drain
from bench.engine_bench import open_task_ids, start
from bench.world import ANSWER_LATER, World

CALLS = 50
LIBRARIES = (  # (label, substring of the file path or built-in name), first match wins
    ("database driver", "sqlite3."),
    ("database driver", "psycopg"),
    ("SQLAlchemy", "/sqlalchemy/"),
    ("SpiffWorkflow", "/SpiffWorkflow/"),
    ("jsonschema", "/jsonschema"),
    ("jsonschema", "/referencing/"),
    ("jsonschema", "/rpds"),
    ("json", "/json/"),
    ("json", "_json"),
    ("Ticketflow (app/)", "/app/"),
    ("uuid", "/uuid.py"),
    ("copy/deepcopy", "/copy.py"),
)
STAGES = (  # (label, file suffix, function)
    ("run_command (total)", "app/engine/runtime/runner.py", "run_command"),
    ("store.load (read rows + load_workflow)", "app/engine/runtime/store.py", "load"),
    ("serializer.load_workflow (JSON -> workflow)", "app/engine/spiff/serializer.py", "load_workflow"),
    ("forms.validate (JSON Schema)", "app/engine/diagrams/forms.py", "validate"),
    ("serializer.new_workflow", "app/engine/spiff/serializer.py", "new_workflow"),
    ("engine_step (SpiffWorkflow runs)", "app/engine/runtime/steps.py", "engine_step"),
    ("store.save (all of it)", "app/engine/runtime/store.py", "save"),
    ("compaction.compact", "app/engine/runtime/compaction.py", "compact"),
    ("projections.snapshot", "app/engine/runtime/projections.py", "snapshot"),
    (
        "store._write_projections (diff + assignment, incl. autoflush)",
        "app/engine/runtime/store.py",
        "_write_projections",
    ),
    ("assignment.assign_new_task (rules + team)", "app/engine/rules/assignment.py", "assign_new_task"),
    ("dmn.decide_rule (DMN lookup + eval)", "app/engine/rules/dmn.py", "decide_rule"),
    ("projections.render_instructions (Jinja2)", "app/engine/runtime/projections.py", "render_instructions"),
    ("serializer.dump_workflow (workflow -> JSON)", "app/engine/spiff/serializer.py", "dump_workflow"),
    ("Session.commit (flush + COMMIT)", "sqlalchemy/orm/session.py", "commit"),
    ("Session.flush (all flushes)", "sqlalchemy/orm/session.py", "flush"),
    ("Session.execute (all ORM statements)", "sqlalchemy/orm/session.py", "execute"),
    ("Session.get", "sqlalchemy/orm/session.py", "get"),
)


def _library(filename: str, function: str) -> str:
    where = filename if filename != "~" else function
    for label, needle in LIBRARIES:
        if needle in where:
            return label
    return "Python stdlib/builtins" if filename == "~" or "/python3.11/" in filename else "other"


def _report(title: str, profile: cProfile.Profile, calls: int) -> list[str]:
    stats = pstats.Stats(profile).stats
    by_library: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in stats.items():
        by_library[_library(filename, function)] += tottime
        total += tottime
    lines = [
        f"{title}: {total * 1000 / calls:.2f} ms per call under cProfile ({calls} calls)",
        "  self time by library:",
    ]
    for label, seconds in sorted(by_library.items(), key=lambda item: -item[1]):
        lines.append(f"    {label:<40} {seconds * 1000 / calls:6.2f} ms  {seconds / total:5.0%}")
    lines.append("  inclusive time of stages (overlapping):")
    for label, suffix, function in STAGES:
        seconds = max(
            (
                ct
                for (filename, _l, fn), (_cc, _nc, _tt, ct, _c) in stats.items()
                if fn == function and filename.endswith(suffix)
            ),
            default=0.0,
        )
        if seconds:
            lines.append(f"    {label:<40} {seconds * 1000 / calls:6.2f} ms")
    lines.append("  top 8 functions by self time:")
    ranked = sorted(stats.items(), key=lambda item: -item[1][2])[:8]
    for (filename, line, function), (_cc, nc, tottime, _ct, _c) in ranked:
        short = filename.split("site-packages/")[-1].split("/work/main/")[-1]
        lines.append(
            f"    {tottime * 1000 / calls:6.2f} ms  {nc / calls:7.1f} calls  {function} ({short}:{line})"
        )
    return lines


def profile_commands(world: World, calls: int = CALLS) -> str:
    """Profile `calls` general starts and `calls` completions, each in a fresh session."""
    lines = [f"cProfile on {world.backend}"]
    with world.app.app_context():
        agent = db.session.get(User, world.agent_id)
        profile = cProfile.Profile()
        ids = []
        for _ in range(calls):
            db.session.remove()
            profile.enable()
            ids.append(start(world, "general"))
            profile.disable()
        lines += _report("start_process(general)", profile, calls)
        drain()
        profile = cProfile.Profile()
        for task_id in open_task_ids(ids):
            db.session.remove()
            profile.enable()
            complete_task(task_id, ANSWER_LATER, agent)
            profile.disable()
        lines += _report("complete_task", profile, calls)
        db.session.remove()
    return "\n".join(lines)
