"""Versions as bundles of files for the studio: a version's files, checking and diffing drafts.

A bundle here is {file name: text}, the same names as a deployment upload (`<key>.bpmn`, forms
`<name>.json`, decisions `<name>.dmn`). Nothing in this module writes anything.
"""

import difflib
import json

from app.engine.commands.deploy import _lane_warnings, check_files, latest_definition
from app.engine.diagrams.diff import spec_diff
from app.engine.errors import DiagramRejected, Problem
from app.engine.spiff import retry
from app.engine.testing.schema import tests_file_of
from app.extensions import db
from app.models import ProcessDefinition


def _in_written_order(schema):
    """A stored form schema as it was written: properties in `x-order`, without `x-order`."""
    if isinstance(schema, list):
        return [_in_written_order(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _in_written_order(v) for k, v in schema.items() if k != "x-order"}
    order = schema.get("x-order")
    if isinstance(out.get("properties"), dict) and isinstance(order, list):
        props = out["properties"]
        out["properties"] = {k: props[k] for k in order if k in props} | {
            k: v for k, v in props.items() if k not in order
        }
    return out


def form_text(schema) -> str:
    return json.dumps(_in_written_order(schema), indent=2, ensure_ascii=False) + "\n"


def _dmn_file_name(decision_id: str) -> str:
    row = latest_definition(decision_id, "dmn")
    name = ((row.dependencies or {}).get("file") if row is not None else None) or f"{decision_id}.dmn"
    return name if name.lower().endswith(".dmn") else f"{decision_id}.dmn"


def definition_files(row: ProcessDefinition) -> dict[str, str]:
    """The files of a deployed BPMN version: its diagram (`<key>.bpmn`), the diagrams it calls, its forms and
    its decisions (one file per DMN document)."""
    deps = row.dependencies or {}
    files = {f"{row.key}.bpmn": row.source.decode()}  # the contract's name, whatever it was uploaded as
    if deps.get("tests"):
        files[tests_file_of(row.key)] = deps["tests"]
    files.update(deps.get("bpmn") or {})
    for name, schema in sorted((row.forms or {}).items()):
        files[name] = form_text(schema)
    seen = set()
    for decision_id, xml in sorted((deps.get("dmn") or {}).items()):
        if xml not in seen:
            seen.add(xml)
            files.setdefault(_dmn_file_name(decision_id), xml)
    return files


def deployed_decision(decision_id: str) -> dict | None:
    """{decision_id, file, dmn} of the latest deployed version of a decision (the whole DMN file
    it was deployed in), or None when none is deployed."""
    row = latest_definition(decision_id, "dmn")
    if row is None:
        return None
    xml = ((row.dependencies or {}).get("dmn") or {}).get(decision_id) or row.source.decode()
    return {"decision_id": decision_id, "file": _dmn_file_name(decision_id), "dmn": xml}


def version_files(key: str, version: int) -> dict[str, str] | None:
    row = db.session.execute(
        db.select(ProcessDefinition).where(
            ProcessDefinition.key == key,
            ProcessDefinition.version == version,
            ProcessDefinition.kind == "bpmn",
        )
    ).scalar()
    return definition_files(row) if row is not None else None


def _uploads(files: dict[str, str]) -> list[tuple[str, bytes]]:
    return [(name, text.encode()) for name, text in files.items()]


def _problem(p: Problem, severity: str) -> dict:
    return {"severity": severity, **p.as_dict()}


def check_bundle_files(files: dict[str, str]) -> list[dict]:
    """Every problem the deploy would find in `files`: {severity, file, element_id, message}."""
    try:
        checked = check_files(_uploads(files))
    except DiagramRejected as exc:
        return [_problem(p, "error") for p in exc.problems]
    return [_problem(p, "warning") for p in checked.warnings + _lane_warnings(checked)]


def _process_of(key: str, files: dict[str, str], side: str):
    try:
        checked = check_files(_uploads(files))
    except DiagramRejected as exc:
        raise DiagramRejected(
            [Problem(p.element_id, f"{side} side: {p.message}", p.file) for p in exc.problems]
        ) from None
    found = next((p for p in checked.processes if p.key == key), None)
    if found is None:
        raise DiagramRejected([Problem(None, f"the {side} side has no executable process '{key}'")])
    return found


def diff_bundles(key: str, old: dict[str, str], new: dict[str, str]) -> dict:
    """{added, removed, changed} element ids of process `key` (SpecDiff), and `forms`: a unified
    text diff of each form file that differs (added and removed forms included).

    Raises:
        DiagramRejected: a side does not pass the deploy checks (its problems listed).
    """
    before, after = _process_of(key, old, "old"), _process_of(key, new, "new")
    result = spec_diff(before.spec, after.spec, before.subprocess_specs, after.subprocess_specs)
    forms = {}
    names = sorted(n for n in set(old) | set(new) if n.lower().endswith(".json"))  # forms and tests
    for name in names:
        a, b = old.get(name, ""), new.get(name, "")
        if a != b:
            lines = difflib.unified_diff(
                a.splitlines(keepends=True), b.splitlines(keepends=True), f"a/{name}", f"b/{name}"
            )
            forms[name] = "".join(lines)
    return {**result, "forms": forms}


def retry_defaults() -> dict:
    """A service task's retry policy when its diagram says nothing, and the bounds."""
    return {
        "retries": retry.DEFAULT_ATTEMPTS,
        "backoff_base": retry.DEFAULT_BACKOFF_BASE,
        "initial_interval": retry.DEFAULT_INITIAL_INTERVAL,
        "max_interval": retry.DEFAULT_MAX_INTERVAL,
        "max_retries": retry.MAX_ATTEMPTS,
    }
