"""Checking a deployment bundle: BPMN, DMN and JSON form files read and checked together.

`check_bundle` is pure (it reads what is deployed through the `Deployed` callbacks it is given
and writes nothing). It returns a `CheckedBundle` with one `CheckedProcess` per executable
process, the decisions and the forms, or raises `DiagramRejected` listing every problem of
every file at once, each naming its file and BPMN element. Nothing of a refused bundle is
ever executed: expressions are only compiled by the safe checker.
"""

import hashlib
from dataclasses import dataclass

from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for
from lxml import etree

from app.engine.diagrams import checks
from app.engine.diagrams.forms import with_field_order
from app.engine.diagrams.processes import CheckedProcess, Deployed, check_processes
from app.engine.diagrams.sla import sla_problems
from app.engine.diagrams.uploads import BundleFile, classify
from app.engine.diagrams.xmlsafety import BPMN_NS, foreign_constructs, unsupported_elements
from app.engine.errors import DiagramRejected, Problem
from app.engine.rules import dmn
from app.engine.testing.schema import parse_tests, process_key_of
from app.inputs import loads_strict

UI_SCHEMA_MARK = "uischema"


@dataclass
class CheckedDecisionFile:
    file: str
    key: str
    name: str | None
    source: bytes
    dmn_sources: dict


@dataclass
class CheckedBundle:
    processes: list[CheckedProcess]
    decisions: list[CheckedDecisionFile]
    forms: dict  # form name -> schema, as uploaded
    warnings: list[Problem]
    checksum: str
    tests: dict  # "<key>.tests.json" -> its text, checked (testing/schema.py)


def _check_form(f: BundleFile) -> tuple[dict | None, Problem | None]:
    try:
        schema = loads_strict(f.data)  # no NaN, no deep nesting, valid text (app/inputs.py)
    except ValueError as exc:
        return None, Problem(None, f"form file '{f.name}' is not valid JSON: {exc}", file=f.name)
    if not isinstance(schema, dict):
        return None, Problem(None, f"form file '{f.name}' must hold a JSON object", file=f.name)
    if UI_SCHEMA_MARK not in f.name.lower():
        try:
            validator_for(schema, default=validator_for({})).check_schema(schema)
        except SchemaError as exc:
            return None, Problem(
                None, f"form '{f.name}' is not a valid JSON Schema: {exc.message}", file=f.name
            )
    return with_field_order(schema), None


def check_bundle(files: list[BundleFile], deployed: Deployed) -> CheckedBundle:
    """Check every file of a bundle together; raise DiagramRejected listing every problem.

    Call activities, forms and decisions resolve inside the bundle first, then against what is
    deployed. Every executable process becomes a `CheckedProcess`; a process of a collaboration
    with several executable pools runs the whole collaboration when it has a plain start event.
    """
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for f in files:
        problem = classify(f)
        if problem:
            problems.append(problem)

    forms: dict[str, dict] = {}
    for f in (f for f in files if f.kind == "form"):
        schema, problem = _check_form(f)
        if problem:
            problems.append(problem)
        else:
            forms[f.name] = schema

    tests: dict[str, str] = {}
    for f in (f for f in files if f.kind == "tests"):
        _, test_problems = parse_tests(f.name, f.data)
        problems.extend(test_problems)
        tests[f.name] = f.data.decode("utf-8", "replace")

    decisions: list[CheckedDecisionFile] = []
    dmn_sources = dict(deployed.dmn_sources)
    for f in (f for f in files if f.kind == "dmn"):
        try:
            parsed = checks.parse_dmn(f.data)
        except DiagramRejected as exc:
            problems.extend(p.in_file(f.name) for p in exc.problems)
            continue
        decision_problems = dmn.check_decisions(parsed.dmn_sources)
        if decision_problems:
            problems.extend(p.in_file(f.name) for p in decision_problems)
            continue
        decisions.append(CheckedDecisionFile(f.name, parsed.key, parsed.name, f.data, parsed.dmn_sources))
        dmn_sources.update(parsed.dmn_sources)

    trees: dict[str, etree._ElementTree] = {}
    for f in (f for f in files if f.kind == "bpmn"):
        try:
            tree = checks.safe_tree(f.data, "bpmn")
        except DiagramRejected as exc:
            problems.extend(p.in_file(f.name) for p in exc.problems)
            continue
        file_problems = [Problem(eid, msg, file=f.name) for eid, msg in unsupported_elements(tree)]
        file_problems += [
            Problem(eid, msg, file=f.name) for eid, msg in foreign_constructs(tree, deployed.known_operators)
        ]
        file_problems += [Problem(eid, msg, file=f.name) for eid, msg in sla_problems(tree, deployed.teams)]
        problems.extend(file_problems)
        trees[f.name] = tree

    processes = check_processes(files, trees, forms, dmn_sources, deployed, problems, warnings)
    keys = {p.key for p in processes}
    problems.extend(
        Problem(
            None, f"the test file is for the process '{process_key_of(name)}', which the bundle has not", name
        )
        for name in tests
        if process_key_of(name) not in keys and processes
    )
    if problems:
        raise DiagramRejected(_unique(problems))
    if not processes and not decisions and not forms:
        idle = [
            Problem(
                proc.get("id"), 'the process is not executable: set isExecutable="true" to run it', file=name
            )
            for name, tree in trees.items()
            for proc in tree.getroot().iter(f"{{{BPMN_NS}}}process")
        ]
        raise DiagramRejected(
            idle
            or [
                Problem(
                    None,
                    "the bundle holds no executable process, decision or form "
                    '(set isExecutable="true" on a process)',
                )
            ]
        )
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.name):
        digest.update(f.name.encode() + b"\0" + f.sha256.encode())
    return CheckedBundle(processes, decisions, forms, _unique(warnings), digest.hexdigest(), tests)


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        key = (p.file, p.element_id, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out
