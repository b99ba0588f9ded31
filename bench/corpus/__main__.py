"""Run the public foreign-BPMN corpus through bare SpiffWorkflow and through Ticketflow's API.

`python -m bench.corpus [--corpus PATH] [--only S01,S02] [--markdown docs/compatibility.md] [--variants]
[--json rows.json]`

For each diagram of the corpus (default `../shared/corpus/foreign-bpmn`, never copied into the
project) the driver builds a bundle (the diagram, its called process from `companions/`, the
DMN files whose decisions it calls, the forms it names) and

1. runs it on bare SpiffWorkflow 3.2 as a plain user would (stock `SpiffBpmnParser` without a
   validator, stock script engine, service calls answer `{}`): parse error, runs to end, or
   stalls/fails and where;
2. deploys it to a fresh Ticketflow (temporary SQLite) through `POST /api/v1/deployments`,
   opens one ticket and drives it through the API only: completes tasks with recipe data
   (`bench/corpus/recipes.py`), delivers the messages it waits for, moves the clock with
   time-machine for its timers and drains the worker.

Each run happens in a forked child with a time budget, so a hostile or looping diagram costs a
row, never the bench. It prints one row per diagram and the totals; `--markdown` also writes
them to docs/compatibility.md (keeping the section "Studio round trip", which
`python -m bench.studio_roundtrip --markdown` writes).
"""

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from bench.corpus.dataset import DEFAULT_CORPUS, dmn_index, read_manifest
from bench.corpus.report import markdown, print_table
from bench.corpus.rows import run_one
from bench.docs_section import carry_over
from bench.studio_roundtrip import TITLE as STUDIO_SECTION


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.corpus", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="the corpus folder (default: ../shared/corpus/foreign-bpmn)",
    )
    parser.add_argument("--only", default="", help="comma-separated diagram ids, e.g. S01,S02")
    parser.add_argument("--markdown", type=Path, help="also write the report as Markdown to this file")
    parser.add_argument(
        "--variants",
        action="store_true",
        help="also run variants/ (minimal edits of a few diagrams), reported apart from the totals",
    )
    parser.add_argument("--json", type=Path, help="also write the rows as JSON (for comparing runs)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    corpus = args.corpus.resolve()
    if not (corpus / "manifest.tsv").is_file():
        print(f"corpus not found: {corpus} has no manifest.tsv (pass --corpus PATH)", file=sys.stderr)
        return 2
    manifest = read_manifest(corpus)
    wanted = {x.strip() for x in args.only.split(",") if x.strip()}
    if wanted - {i for i, _ in manifest}:
        print(f"unknown ids: {', '.join(sorted(wanted - {i for i, _ in manifest}))}", file=sys.stderr)
        return 2
    decisions = dmn_index(corpus)
    started = time.perf_counter()
    jobs = [(i, source, None) for i, source in manifest if not wanted or i in wanted]
    if args.variants:
        jobs += [
            (p.stem, f"variant of {p.stem.split('-')[0]}", p)
            for p in sorted((corpus / "variants").glob("*.bpmn"))
            if not wanted or p.stem.split("-")[0] in wanted
        ]
    rows, variants = [], []
    for diagram_id, source, variant in jobs:
        row = run_one(corpus, diagram_id, source, decisions, variant)
        (variants if variant else rows).append(row)
        print(
            f"  {row.id}: bare {row.bare}; {row.verdict}"
            f"{'; ran to end' if row.ran_to_end else ''} ({time.perf_counter() - started:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    seconds = time.perf_counter() - started
    print_table(rows)
    if variants:
        print("\nvariants (not in the totals):")
        print_table(variants, with_totals=False)
    if args.markdown:
        old = args.markdown.read_text() if args.markdown.exists() else ""
        # The studio's round trip (bench/studio_roundtrip.py) owns its own section of the file.
        args.markdown.write_text(carry_over(old, markdown(rows, variants, seconds), (STUDIO_SECTION,)))
        print(f"wrote {args.markdown}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows + variants], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
