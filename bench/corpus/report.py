"""The report: the table and totals on the terminal, and docs/compatibility.md."""

import re
import subprocess
from collections import defaultdict
from datetime import UTC, datetime

from bench.corpus.dataset import ROOT
from bench.corpus.rows import Row

# Words a refusal uses when it tells the modeller what to do instead.
REMEDY_WORDS = re.compile(
    r"\b(use|instead|rename|quote|set|add|remove|replace|write|drop|deploy|send|"
    r"start|give|declare|move|name|correct|did you mean|known:|this server has)\b",
    re.IGNORECASE,
)


def reasons(row: Row, limit: int = 2) -> str:
    shown = [f"{e.get('element_id') or e.get('file') or '-'}: {e['message']}" for e in row.errors[:limit]]
    more = len(row.errors) - limit
    return "; ".join(shown) + (f" (+{more} more)" if more > 0 else "")


def explains(error: dict) -> tuple[bool, bool]:
    """(names a BPMN element, says what to do instead) for one refusal reason."""
    return bool(error.get("element_id")), bool(REMEDY_WORDS.search(error["message"]))


def totals(rows: list[Row]) -> dict:
    accepted = [r for r in rows if r.accepted]
    ran = [r for r in accepted if r.ran_to_end]
    return {
        "diagrams": len(rows),
        "accepted": len(accepted),
        "accepted_pct": 100 * len(accepted) / len(rows) if rows else 0.0,
        "bare_runs": sum(r.bare_runs for r in rows),
        "false_refusals": [r.id for r in rows if r.false_refusal],
        "ran_to_end": len(ran),
        "ran_pct": 100 * len(ran) / len(accepted) if accepted else 0.0,
        "stalled": [r.id for r in accepted if not r.ran_to_end],
        "bare_runs_ticketflow_not": [r.id for r in accepted if r.bare_runs and not r.ran_to_end],
        "broken": [r.id for r in rows if r.broken],
        "justified": [r.id for r in rows if r.refused and not r.false_refusal and not r.server_error],
        "unexplained": [
            r.id
            for r in rows
            if r.refused
            and not r.false_refusal
            and not r.server_error
            and not all(all(explains(e)) for e in r.errors)
        ],
        "server_errors": [r.id for r in rows if r.server_error],
    }


def clip(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def stalled_note(t: dict) -> str:
    """Which accepted-but-stalled diagrams bare SpiffWorkflow does run to their end."""
    if not t["stalled"]:
        return ""
    if not t["bare_runs_ticketflow_not"]:
        return " (bare SpiffWorkflow does not reach their end either)"
    return f" (bare SpiffWorkflow reaches the end of {', '.join(t['bare_runs_ticketflow_not'])})"


def print_table(rows: list[Row], with_totals: bool = True) -> None:
    width = max([4, *(len(r.id) for r in rows)])
    print(f"{'id':{width}} {'source':28} {'bare Spiff':12} {'Ticketflow':14} {'end':4} reason / where")
    for r in rows:
        end = ("yes" if r.ran_to_end else "no") if r.accepted else "-"
        detail = r.where if r.accepted or r.broken else reasons(r)
        if not r.bare_runs:
            detail = (detail + " | bare: " if detail else "bare: ") + r.bare_where
        print(
            f"{r.id:{width}} {clip(r.source, 28):28} {r.bare:12} {r.verdict:14} {end:4} {clip(detail, 150)}"
        )
    if not with_totals:
        return
    t = totals(rows)
    print()
    print(
        f"accepted {t['accepted']}/{t['diagrams']} ({t['accepted_pct']:.0f} %); "
        f"false refusals {len(t['false_refusals'])} {t['false_refusals'] or ''}; "
        f"ran to end {t['ran_to_end']}/{t['accepted']} of accepted ({t['ran_pct']:.0f} %); "
        f"bare SpiffWorkflow runs {t['bare_runs']}/{t['diagrams']} to end"
    )
    if t["stalled"]:
        print(f"accepted but not at their end: {', '.join(t['stalled'])}{stalled_note(t)}")
    print(
        f"justified refusals {len(t['justified'])}; a reason without element or remedy: "
        f"{', '.join(t['unexplained']) or 'none'}"
    )
    if t["broken"]:
        print(f"driver errors (neither accepted nor refused): {', '.join(t['broken'])}")


def md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def revision() -> str:
    """The commit the run measured, and whether the working tree differed from it."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "app"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "an unknown revision"
    return f"commit {sha}" + (" with uncommitted changes in app/" if dirty else "")


def table_lines(rows: list[Row]) -> list[str]:
    lines = [
        "| id | source | bare SpiffWorkflow | Ticketflow | ran to end | reasons / where it stopped |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        end = ("yes" if r.ran_to_end else "no") if r.accepted else "–"
        detail = r.where if r.accepted or r.broken else reasons(r, 3)
        bare = r.bare if r.bare_runs else f"{r.bare}: {clip(r.bare_where, 160)}"
        lines.append(
            f"| {r.id} | {md_cell(r.source)} | {md_cell(bare)} | {r.verdict} | {end} | {md_cell(clip(detail, 300))} |"
        )
    return lines


def markdown(rows: list[Row], variants: list[Row], seconds: float) -> str:
    t = totals(rows)
    lines = [
        "# Compatibility with BPMN made elsewhere",
        "",
        f"The measure is a public corpus of {t['diagrams']} diagrams collected from other projects "
        "(SpiffWorkflow's and spiff-example-cli's test and tutorial data, SpiffArena test models, "
        "sartography sample models, Camunda 7 and 8 examples, bpmn-js examples, Flowable test "
        "resources, a Camunda Modeler fixture), with the forms, decision tables and called processes "
        "they name. It lives outside the project in `../shared/corpus/foreign-bpmn` "
        "(`manifest.tsv` names the source of each diagram) and is never copied in.",
        "",
        "For every diagram, `bench/corpus/` builds a bundle (the diagram, its called process from "
        "`companions/`, the DMN files whose decisions it calls, the forms it names), then",
        "",
        "- runs it on **bare SpiffWorkflow 3.2** as a plain user would: the stock `SpiffBpmnParser` "
        "without validator, the stock Python script engine, service calls answering `{}`, tasks "
        "completed with the recipe data, messages delivered, timers forced;",
        "- deploys it to a fresh **Ticketflow** (temporary SQLite) through `POST /api/v1/deployments`, "
        "opens one ticket and drives it through the API only: tasks completed with the recipe data "
        "(form defaults and samples for required fields underneath), `POST /api/v1/messages` for the "
        "messages it waits for, the clock moved past each timer's due time and the worker drained.",
        "",
        "The data each diagram needs to reach an end (its gateway conditions, scripts and forms read "
        "by hand) is in `bench/corpus/recipes.py`; it is data only, never an outcome. A refusal is "
        "*false* when bare SpiffWorkflow runs the diagram to its end and Ticketflow refuses it for "
        "anything else than a service operator it has no handler for (refused by design).",
        "",
        "Reproduce:",
        "",
        "```sh",
        ".venv/bin/python -m bench.corpus --variants --markdown docs/compatibility.md   # --only S01,S02 for a few",
        "```",
        "",
        "To see what the deploy checks say about one bundle without deploying it (on a migrated "
        "database, as `make run` leaves it):",
        "",
        "```sh",
        "C=../shared/corpus/foreign-bpmn",
        ".venv/bin/flask --app wsgi processes check $C/E03.bpmn $C/companions/E03.callee.bpmn "
        "$C/dmn/shipping_costs.dmn $C/forms/*.json",
        "```",
        "",
        "## Totals",
        "",
        "| | |",
        "| --- | --- |",
        f"| diagrams | {t['diagrams']} |",
        f"| bare SpiffWorkflow 3.2 runs to end | {t['bare_runs']} |",
        f"| accepted by Ticketflow | {t['accepted']} ({t['accepted_pct']:.0f} %) |",
        f"| false refusals (target 0) | {len(t['false_refusals'])}"
        f"{': ' + ', '.join(t['false_refusals']) if t['false_refusals'] else ''} |",
        f"| accepted diagrams run to their end (target ≥ 90 %) | {t['ran_to_end']} of {t['accepted']} "
        f"({t['ran_pct']:.0f} %) |",
        f"| accepted, not at their end | {', '.join(t['stalled']) or 'none'}{stalled_note(t)} |",
        f"| justified refusals | {len(t['justified'])}; not naming the element or the remedy in every reason: "
        f"{', '.join(t['unexplained']) or 'none'} |",
        "",
        f"Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {revision()}, {seconds:.0f} s for the whole corpus.",
        "",
        "## Every diagram",
        "",
    ]
    lines += table_lines(rows)
    lines += [
        "",
        "## Justified refusals",
        "",
        "Refusals of diagrams bare SpiffWorkflow does not run to its end either, and of service "
        "operators without a Ticketflow handler, grouped by reason. *element* says whether the "
        "refusal names a BPMN element, *remedy* whether it says what to do instead.",
        "",
    ]
    groups: dict[str, list] = defaultdict(list)
    for r in rows:
        if not r.refused or r.false_refusal or r.server_error:
            continue
        for e in r.errors:
            groups[reason_group(e["message"])].append((r.id, e))
    for group, items in sorted(groups.items(), key=lambda kv: (-len({i for i, _ in kv[1]}), kv[0])):
        ids = sorted({i for i, _ in items})
        named = all(explains(e)[0] for _, e in items)
        remedy = all(explains(e)[1] for _, e in items)
        lines.append(
            f"- **{md_cell(group)}** ({len(ids)}: {', '.join(ids)}) — element: "
            f"{'yes' if named else 'not always'}, remedy: {'yes' if remedy else 'not always'}. "
            f"Example: `{md_cell(clip(items[0][1]['message'], 200))}`"
        )
    if t["false_refusals"]:
        lines += ["", "## False refusals", ""]
        for r in rows:
            if r.false_refusal:
                lines.append(f"- **{r.id}**: {md_cell(reasons(r, 5))}")
    if variants:
        lines += [
            "",
            "## Variants",
            "",
            "Minimal edits of a few diagrams from `variants/` (a call activity merged into one file, "
            "resource assignment stripped, a timer left unquoted), run the same way with the recipe "
            "of their diagram; not counted in the totals.",
            "",
        ]
        lines += table_lines(variants)
    return "\n".join(lines) + "\n"


def reason_group(message: str) -> str:
    """A refusal message without its particulars (ids, names, numbers), to group alike reasons."""
    text = re.sub(r"^'.*' is an? ", "… is a ", message)  # a quoted expression may hold quotes itself
    text = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`|\{[^}]*\}", "…", text)
    text = re.sub(r"\(line \d+\)|\d+", "", text)
    text = text.split(";")[0]
    return " ".join(text.split())[:120]
