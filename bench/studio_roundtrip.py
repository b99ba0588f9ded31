"""Every diagram of the public corpus opened in the studio and saved without edits, in Chromium.

`python -m bench.studio_roundtrip [--corpus PATH] [--only S01,S02] [--markdown docs/compatibility.md]`

A live Ticketflow (temporary SQLite, the Flask app served from a thread) and Debian's Chromium
driven by Playwright. For each `.bpmn` at the top of the corpus (default
`../shared/corpus/foreign-bpmn`, read where it is, never copied in) an analyst creates a fresh
ticket type, imports the diagram through the editor's "Import files…" button, clicks Save, and the
draft the server stored is compared with the original by `tests/bpmn_meaning.py` (the comparison
of tests/browser/test_studio_import.py: every element and attribute outside the diagram
interchange, order and whitespace aside). It prints one row per diagram and the totals;
`--markdown` writes (or replaces) the section "Studio round trip" of that file, nothing else.
"""

import argparse
import logging
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.corpus.dataset import DEFAULT_CORPUS, read_manifest
from bench.corpus.report import revision
from bench.docs_section import put_section
from tests.bpmn_meaning import first_difference

TITLE = "Studio round trip"
PASSWORD = "corpus-roundtrip"
STEP_MS = 30_000
IMPORTED = "() => /^(Imported|Not imported)/.test(document.querySelector('#status').textContent)"
SAVED = "() => /^(Saved|Not saved)/.test(document.querySelector('#status').textContent)"


@dataclass
class Row:
    id: str
    source: str
    opened: bool = False
    note: str = ""  # the import error, or its first warning
    warnings: int = 0
    saved: bool = False
    unchanged: bool = False
    difference: str = ""  # the first difference, or why it was not saved
    new_errors: list[str] | None = None  # deploy-check errors of the saved file the original has not


def diagrams(corpus: Path, wanted: set[str]) -> list[tuple[str, str, Path]]:
    """(id, source, path) of every top-level .bpmn: the manifest's order, then any it does not name."""
    named = {i: source for i, source in read_manifest(corpus)}
    paths = {p.stem: p for p in sorted(corpus.glob("*.bpmn"))}
    order = [i for i in named if i in paths] + [i for i in paths if i not in named]
    return [(i, named.get(i, "–"), paths[i]) for i in order if not wanted or i in wanted]


def serve(folder: str):
    """A fresh Ticketflow on SQLite in `folder` with one analyst, served on a free port: (url, stop)."""
    from werkzeug.serving import make_server

    from app import create_app
    from app.extensions import db
    from tests.factories import make_user

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/studio.db", "WTF_CSRF_ENABLED": True})
    with app.app_context():
        db.create_all()
        make_user("corpus_analyst", "analyst", password=PASSWORD)
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join()

    return f"http://127.0.0.1:{server.server_port}", stop


def sign_in(context) -> None:
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", "corpus_analyst")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/studio/")
    page.close()


def new_type(page, key: str, name: str) -> None:
    """Create the ticket type `key` from the studio's list and wait for its editor."""
    page.goto("/studio/")
    page.get_by_role("button", name="New ticket type").click()
    page.fill("#new-type-key", key)
    page.fill("#new-type-name", name)
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(f"**/studio/types/{key}")
    page.wait_for_selector("#studio-editor[data-ready=true]")


def status(page) -> str:
    return " ".join(page.locator("#status").inner_text().split())


def round_trip(context, diagram_id: str, source: str, path: Path) -> Row:
    """Import `path` into a new type's draft, save it unedited and compare what the server keeps."""
    row = Row(diagram_id, source)
    key = f"corpus_{diagram_id.lower()}"
    original = path.read_bytes()
    page = context.new_page()
    warned = []
    page.on("console", lambda msg: warned.append(msg) if msg.type == "warning" else None)
    try:
        new_type(page, key, f"Corpus {diagram_id}")
        warned.clear()
        page.set_input_files("#import-files", str(path))
        page.wait_for_function(IMPORTED)
        said = status(page)
        if said.startswith("Not imported"):
            row.note = said.removeprefix("Not imported: ")
            return row
        row.opened = True
        warnings = [w for m in warned if m.text.startswith("import warnings") for w in warning_texts(m)]
        row.warnings, row.note = len(warnings), (warnings[0] if warnings else "")
        page.get_by_role("button", name="Save").click()
        page.wait_for_function(SAVED)
        said = status(page)
        if said.startswith("Not saved"):
            row.difference = said
            return row
        row.saved = True
        answer = page.request.get(f"/studio/api/types/{key}/draft")
        stored = answer.json()["files"].get(f"{key}.bpmn", "")
        row.difference = first_difference(original, stored) or ""
        row.unchanged = not row.difference
        if not row.unchanged:
            before, after = (
                errors_of(page, key, text) for text in (original.decode("utf-8", "replace"), stored)
            )
            row.new_errors = [e for e in after if e not in before]
        return row
    except Exception as exc:  # a diagram that hangs or breaks the page costs a row, not the run
        row.difference = row.difference or f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        return row
    finally:
        page.close()


def errors_of(page, key: str, diagram: str) -> list[str]:
    """The deploy checks' errors for a draft of this one diagram, by the studio's check endpoint."""
    token = page.get_attribute("meta[name=csrf-token]", "content")
    answer = page.request.post(
        f"/studio/api/types/{key}/check",
        data={"files": {f"{key}.bpmn": diagram}},
        headers={"X-CSRFToken": token},
    )
    return [p["message"] for p in answer.json().get("problems", []) if p.get("severity") == "error"]


def warning_texts(message) -> list[str]:
    """The messages of bpmn-js's import warnings, from the editor's console.warn(text, [messages])."""
    try:
        values = message.args[1].json_value() if len(message.args) > 1 else []
    except Exception:
        return [message.text]
    return [str(v) for v in values] if isinstance(values, list) else [str(values)]


def run(corpus: Path, wanted: set[str]) -> list[Row]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, FLAGS

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="studio-roundtrip-") as folder:
        url, stop = serve(folder)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
                context.set_default_timeout(STEP_MS)
                sign_in(context)
                for diagram_id, source, path in diagrams(corpus, wanted):
                    row = round_trip(context, diagram_id, source, path)
                    rows.append(row)
                    print(
                        f"  {row.id}: {verdict(row)} ({time.perf_counter() - started:.0f} s)",
                        file=sys.stderr,
                        flush=True,
                    )
                browser.close()
        finally:
            stop()
    return rows


def verdict(row: Row) -> str:
    if not row.opened:
        return f"not opened: {row.note or row.difference}"
    if not row.saved:
        return f"opened, not saved: {row.difference}"
    return "opened, saved unchanged" if row.unchanged else f"opened, saved CHANGED: {row.difference}"


def totals(rows: list[Row]) -> dict:
    return {
        "diagrams": len(rows),
        "opened": sum(r.opened for r in rows),
        "with_warnings": [r.id for r in rows if r.opened and r.warnings],
        "not_opened": [r.id for r in rows if not r.opened],
        "saved": sum(r.saved for r in rows),
        "unchanged": sum(r.unchanged for r in rows),
        "changed": [r.id for r in rows if r.saved and not r.unchanged],
        "new_errors": [r.id for r in rows if r.new_errors],
        "not_saved": [r.id for r in rows if r.opened and not r.saved],
    }


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def opened_cell(row: Row) -> str:
    if not row.opened:
        return f"no: {clip(row.note, 200)}"
    if row.warnings:
        return f"yes, {row.warnings} import warning(s): {clip(row.note, 160)}"
    return "yes"


def saved_cell(row: Row) -> str:
    if not row.opened:
        return "–"
    if not row.saved:
        return f"not saved: {clip(row.difference, 200)}"
    if row.unchanged:
        return "yes"
    checks = (
        f"; new deploy-check error: {clip(row.new_errors[0], 160)}"
        if row.new_errors
        else "; the deploy checks say the same"
        if row.new_errors is not None
        else ""
    )
    return f"no: {clip(row.difference, 240)}{checks}"


def print_table(rows: list[Row]) -> None:
    print(f"{'id':<5} {'opened':<40} saved unchanged")
    for r in rows:
        print(f"{r.id:<5} {clip(opened_cell(r), 40):<40} {clip(saved_cell(r), 80)}")
    t = totals(rows)
    print(
        f"\n{t['diagrams']} diagrams: {t['opened']} opened ({len(t['with_warnings'])} with import warnings), "
        f"{t['saved']} saved, {t['unchanged']} saved unchanged; changed: {', '.join(t['changed']) or 'none'} "
        f"(with new deploy-check errors: {', '.join(t['new_errors']) or 'none'}); "
        f"not opened: {', '.join(t['not_opened']) or 'none'}; not saved: {', '.join(t['not_saved']) or 'none'}"
    )


def section(rows: list[Row], seconds: float) -> str:
    """The body of the 'Studio round trip' section of docs/compatibility.md."""
    t = totals(rows)
    lines = [
        "Every diagram of the corpus opened in the studio and saved without edits, as an analyst "
        "would: a live Ticketflow (temporary SQLite) and Debian's Chromium driven by Playwright; for "
        "each diagram a new ticket type, the diagram imported with the editor's **Import files…** "
        "button, **Save** clicked, and the draft the server stored compared with the original file: "
        "every element and attribute outside the diagram interchange (DI), order and whitespace "
        "aside (`tests/bpmn_meaning.py`, the comparison of `tests/browser/test_studio_import.py`). "
        "*Opened* says whether bpmn-js imported it (with the first import warning, if any); *saved "
        "unchanged* names the first element or attribute lost, changed or added, and whether the "
        "deploy checks (the studio's check endpoint) find an error in the saved file that they do "
        "not find in the original.",
        "",
        "Reproduce (needs the studio's bundle, `make studio`, and `/usr/bin/chromium`):",
        "",
        "```sh",
        ".venv/bin/python -m bench.studio_roundtrip --markdown docs/compatibility.md   # --only A10,C01 for a few",
        "```",
        "",
        "| | |",
        "| --- | --- |",
        f"| diagrams | {t['diagrams']} |",
        f"| opened in the studio | {t['opened']}; with import warnings: {len(t['with_warnings'])}"
        f"{' (' + ', '.join(t['with_warnings']) + ')' if t['with_warnings'] else ''}; not opened: "
        f"{', '.join(t['not_opened']) or 'none'} |",
        f"| saved | {t['saved']}; not saved: {', '.join(t['not_saved']) or 'none'} |",
        f"| saved unchanged | {t['unchanged']} of {t['saved']}; changed: {', '.join(t['changed']) or 'none'} |",
        f"| changed and with deploy-check errors the original has not | {', '.join(t['new_errors']) or 'none'} |",
        "",
        f"Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {revision()}, {seconds:.0f} s for the whole corpus.",
        "",
        "| id | source | opened | saved unchanged |",
        "| --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(f"| {r.id} | {cell(r.source)} | {cell(opened_cell(r))} | {cell(saved_cell(r))} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.studio_roundtrip", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS, help="default: ../shared/corpus/foreign-bpmn"
    )
    parser.add_argument("--only", default="", help="comma-separated diagram ids, e.g. A10,C01")
    parser.add_argument("--markdown", type=Path, help="write the section 'Studio round trip' of this file")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    corpus = args.corpus.resolve()
    if not (corpus / "manifest.tsv").is_file():
        print(f"corpus not found: {corpus} has no manifest.tsv (pass --corpus PATH)", file=sys.stderr)
        return 2
    wanted = {x.strip() for x in args.only.split(",") if x.strip()}
    started = time.perf_counter()
    rows = run(corpus, wanted)
    seconds = time.perf_counter() - started
    print_table(rows)
    if args.markdown:
        old = args.markdown.read_text() if args.markdown.exists() else ""
        args.markdown.write_text(put_section(old, TITLE, section(rows, seconds)))
        print(f"wrote the section '{TITLE}' of {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
