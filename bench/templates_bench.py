"""What bounding instructions costs: `python -m bench.templates_bench [--n 2000]`.

Renders every `instructionsForEndUser` of the shipped processes (each task creation renders
one) with representative data, in Jinja2's plain sandbox (what the engine used before issue 9)
and in the bounded environment (`app.engine.expressions.templates`), and a loop over 200 items
to show the per-iteration charge. Prints microseconds per render, median of the runs.
"""

import argparse
import re
import statistics
import time
from html import unescape
from pathlib import Path

from jinja2 import ChainableUndefined
from jinja2.sandbox import SandboxedEnvironment

from app.engine.expressions.templates import render_bounded

ROOT = Path(__file__).resolve().parent.parent
DATA = {
    "customer": {
        "name": "Ann Lee",
        "tier": "gold",
        "order_count": 85,
        "tenure_months": 40,
        "open_balance": 12.5,
    },
    "severity": "high",
    "order_number": "A-1001",
    "description": "The shoes fell apart after a week.",
    "response": "We are sorry.",
    "findings": "Glue failure.",
    "first_response_deadline": {"at": "2026-11-24T09:00:00+00:00"},
    "escalated_priority": {"priority": "urgent"},
    "ticket_id": 42,
    "subject": "Broken shoes",
    "feedback": {"rating": 2, "comment": "Too slow"},
    "requested_amount": 500.0,
    "purpose": "stock",
    "assessment": {"score": 71, "risk": "low", "proposed_limit": 400.0},
    "category": "opening_hours",
    "question": "When do you open?",
    "items": [{"sku": "SHOE-42", "qty": 1}, {"sku": "SOCK-1", "qty": 2}],
    "amount": 89.9,
    "preferred_resolution": "credit_note",
    "reason": "damaged_item",
}
LOOP = "{% for item in items %}{{ item.qty }} x {{ item.sku }}{% if not loop.last %}, {% endif %}{% endfor %}"


def shipped_templates() -> list[str]:
    found = []
    for path in sorted((ROOT / "processes").glob("*.bpmn")):
        texts = re.findall(r"instructionsForEndUser>([^<]*)<", path.read_text())
        found += [unescape(t) for t in texts if t.strip()]
    return found


def _per_render(render, templates: list[str], data: dict, n: int) -> float:
    for template in templates:  # compile (cached) outside the timing
        render(template, data)
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n):
            for template in templates:
                render(template, data)
        runs.append((time.perf_counter() - started) / (n * len(templates)) * 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.templates_bench")
    parser.add_argument("--n", type=int, default=2000, help="renders of each template per run")
    n = parser.parse_args().n
    plain_env = SandboxedEnvironment(autoescape=False, undefined=ChainableUndefined)
    compiled = {}

    def plain(template, data):
        if template not in compiled:
            compiled[template] = plain_env.from_string(template)
        return compiled[template].render(**data)

    shipped = shipped_templates()
    loop_data = {"items": [{"sku": f"S-{i}", "qty": i} for i in range(200)]}
    rows = [
        (f"shipped instructions ({len(shipped)} templates)", shipped, DATA, n),
        ("loop over 200 items", [LOOP], loop_data, max(1, n // 20)),
    ]
    print(f"{'template':40} {'plain sandbox':>15} {'bounded':>10} {'ratio':>6}")
    for label, templates, data, count in rows:
        before = _per_render(plain, templates, data, count)
        after = _per_render(render_bounded, templates, data, count)
        print(f"{label:40} {before:12.1f} us {after:7.1f} us {after / before:5.1f}x")


if __name__ == "__main__":
    main()
