"""The deploy command: check a bundle (or one file) and store what changed as new immutable versions.

A deployment is all or nothing: every file is checked with the others (`diagrams/bundles.py`), and
one problem anywhere refuses the whole bundle with every problem listed; nothing is stored then.
Each process, decision and form whose content changed becomes the next version of its key;
identical content is a no-op.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from app import sla
from app.engine.diagrams import checks
from app.engine.diagrams.bundles import CheckedBundle, check_bundle
from app.engine.diagrams.forms import with_field_order
from app.engine.diagrams.processes import Deployed
from app.engine.diagrams.sla import process_targets
from app.engine.diagrams.uploads import BundleFile, read_uploads
from app.engine.errors import DiagramRejected, Problem
from app.engine.runtime.history import history
from app.engine.runtime.runner import run_command
from app.engine.spiff import specs
from app.engine.testing.schema import tests_file_of
from app.extensions import db
from app.handlers import HANDLERS
from app.models import Deployment, FormDefinition, ProcessDefinition, Team


@dataclass
class DeployResult:
    """What a deployment made: each entry says its key, version and whether it is new."""

    deployment_id: int | None
    created: bool
    processes: list[dict] = field(default_factory=list)
    decisions: list[dict] = field(default_factory=list)
    forms: list[dict] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    definitions: dict = field(default_factory=dict)  # key -> ProcessDefinition
    fresh: dict = field(default_factory=dict)  # key -> CheckedProcess of each new version

    def as_dict(self) -> dict:
        return {
            "deployment_id": self.deployment_id,
            "processes": self.processes,
            "decisions": self.decisions,
            "forms": self.forms,
            "warnings": [w.as_dict() for w in self.warnings],
        }


def _legacy_form(name: str) -> dict | None:
    """A form file in FORMS_DIR, for single diagrams deployed before their forms were."""
    forms_dir = Path(current_app.config["FORMS_DIR"]).resolve()
    path = (forms_dir / name).resolve()
    if path.parent != forms_dir or not path.is_file():
        return None
    try:
        return with_field_order(json.loads(path.read_text()))
    except json.JSONDecodeError as exc:
        raise ValueError(f"form file '{name}' is not valid JSON: {exc}") from None


def latest_definition(key: str, kind: str | None = None) -> ProcessDefinition | None:
    query = db.select(ProcessDefinition).where(ProcessDefinition.key == key)
    if kind:
        query = query.where(ProcessDefinition.kind == kind)
    return db.session.execute(query.order_by(ProcessDefinition.version.desc()).limit(1)).scalar()


def latest_form(name: str) -> FormDefinition | None:
    return db.session.execute(
        db.select(FormDefinition)
        .where(FormDefinition.name == name)
        .order_by(FormDefinition.version.desc())
        .limit(1)
    ).scalar()


def _deployed_dmn_sources() -> dict[str, str]:
    sources = {}
    rows = db.session.execute(
        db.select(ProcessDefinition.dependencies)
        .where(ProcessDefinition.kind == "dmn")
        .order_by(ProcessDefinition.version)
    ).scalars()
    for deps in rows:  # later versions overwrite earlier ones
        sources.update((deps or {}).get("dmn", {}))
    return sources


def _deployed_form(name: str) -> dict | None:
    row = latest_form(name)
    return row.schema if row is not None else _legacy_form(name)


def _deployed_process(key: str) -> tuple | None:
    row = latest_definition(key, "bpmn")
    if row is None:
        return None
    deps = row.dependencies or {}
    return deps.get("file") or f"{key}.bpmn", row.source.decode(), deps.get("bpmn", {})


def deployed_context() -> Deployed:
    return Deployed(
        form=_deployed_form,
        dmn_sources=_deployed_dmn_sources(),
        process=_deployed_process,
        known_operators=set(HANDLERS),
        teams=set(db.session.execute(db.select(Team.key)).scalars()),
    )


def check_files(uploads: list[tuple[str, bytes]]) -> CheckedBundle:
    """Check uploads as one bundle without storing anything (`flask processes check`)."""
    config = current_app.config
    files = read_uploads(uploads, max_file=config["MAX_DIAGRAM_BYTES"], max_total=config["MAX_BUNDLE_BYTES"])
    return check_bundle(files, deployed_context())


def _lane_warnings(checked: CheckedBundle) -> list[Problem]:
    teams = set(db.session.execute(db.select(Team.key)).scalars())
    fallback = current_app.config["DEFAULT_TEAM"]
    warnings, seen = [], set()
    for process in checked.processes:
        for process_spec in [process.spec, *process.subprocess_specs.values()]:
            for task_spec in process_spec.task_specs.values():
                lane = getattr(task_spec, "lane", None)
                if getattr(task_spec, "manual", False) and lane and lane not in teams and lane not in seen:
                    seen.add(lane)
                    warnings.append(
                        Problem(
                            task_spec.bpmn_id,
                            f"lane '{lane}' names no team; its tasks go to "
                            f"the team '{fallback}' (DEFAULT_TEAM)",
                            file=process.file,
                        )
                    )
    return warnings


def deploy_bundle(
    uploads: list[tuple[str, bytes]],
    actor_id: int | None = None,
    actor: str | None = None,
    comment: str | None = None,
    tests: dict | None = None,
) -> DeployResult:
    """Check uploads (BPMN, DMN, JSON forms, or a .zip of them) together and store them.

    `comment` (what the deployer says about it, e.g. from the studio) is kept on the deployment,
    and so is `tests`, what the process tests found when the studio ran them first ({passed,
    failed, failing, overridden}); a deploy despite a failing test is in the history as
    `tests_overridden`.

    Returns:
        The deployment with each process, decision and form and its version; `created` is
        False when everything was already deployed with identical content.

    Raises:
        DiagramRejected: listing every problem of every file; nothing is stored.
    """
    checked = check_files(uploads)
    warnings = checked.warnings + _lane_warnings(checked)
    files = [BundleFile(name, data) for name, data in uploads]

    def body():
        result = DeployResult(deployment_id=None, created=False, warnings=warnings)
        pending: list = []  # rows to add once the deployment exists
        for name, schema in checked.forms.items():
            checksum = hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()
            latest = latest_form(name)
            if latest is not None and latest.checksum == checksum:
                result.forms.append({"name": name, "version": latest.version, "created": False})
                continue
            row = FormDefinition(
                name=name, version=(latest.version + 1) if latest else 1, checksum=checksum, schema=schema
            )
            pending.append(row)
            result.forms.append({"name": name, "version": row.version, "created": True})
        for decision in checked.decisions:
            row, created = _version_of(
                decision.key,
                "dmn",
                hashlib.sha256(decision.source).hexdigest(),
                lambda version, d=decision: ProcessDefinition(
                    key=d.key,
                    version=version,
                    kind="dmn",
                    name=d.name,
                    source=d.source,
                    checksum=hashlib.sha256(d.source).hexdigest(),
                    forms={},
                    dependencies={"dmn": d.dmn_sources, "file": d.file},
                    deployed_by_id=actor_id,
                ),
            )
            if created:
                pending.append(row)
            result.decisions.append(
                {
                    "key": decision.key,
                    "version": row.version,
                    "created": created,
                    "decisions": sorted(decision.dmn_sources),
                }
            )
        fresh = {}
        for process in checked.processes:
            tests_text = checked.tests.get(tests_file_of(process.key))
            checksum = _checksum_with_tests(process.checksum, tests_text)
            row, created = _version_of(
                process.key,
                "bpmn",
                checksum,
                lambda version, p=process, c=checksum, t=tests_text: ProcessDefinition(
                    key=p.key,
                    version=version,
                    kind="bpmn",
                    name=p.name,
                    source=p.source,
                    checksum=c,
                    forms=p.forms,
                    start_form=p.start_form,
                    dependencies={**p.dependencies, "file": p.file, **({"tests": t} if t else {})},
                    deployed_by_id=actor_id,
                ),
            )
            if created:
                pending.append(row)
                fresh[process.key] = process
                _store_sla_targets(process)
            result.definitions[process.key] = row
            result.processes.append(
                {
                    "key": process.key,
                    "version": row.version,
                    "created": created,
                    "new_type": created and row.version == 1,
                    "name": row.name,
                    "file": process.file,
                }
            )
        if not pending:
            same = db.session.execute(
                db.select(Deployment.id)
                .where(Deployment.checksum == checked.checksum)
                .order_by(Deployment.id.desc())
                .limit(1)
            ).scalar()
            result.deployment_id = same
            return result
        deployment = Deployment(
            checksum=checked.checksum,
            deployed_by_id=actor_id,
            files=[{"name": f.name, "sha256": f.sha256} for f in files],
            comment=(comment or "").strip()[:500] or None,
            tests=tests,
        )
        db.session.add(deployment)
        db.session.flush()
        for row in pending:
            row.deployment_id = deployment.id
            db.session.add(row)
        db.session.flush()
        result.deployment_id, result.created = deployment.id, True
        history(
            "deployment_created",
            actor=actor,
            element_id=f"deployment {deployment.id}",
            data={
                "deployment_id": deployment.id,
                "files": [f.name for f in files],
                "processes": [p for p in result.processes if p["created"]],
                "decisions": [d for d in result.decisions if d["created"]],
                "forms": [f for f in result.forms if f["created"]],
                **({"tests": tests} if tests else {}),
            },
        )
        if tests and tests.get("overridden"):
            history(
                "tests_overridden",
                actor=actor,
                element_id=f"deployment {deployment.id}",
                data={"deployment_id": deployment.id, **tests},
            )
        for entry in result.processes + result.decisions:
            if entry["created"]:
                history(
                    "definition_deployed",
                    actor=actor,
                    element_id=entry["key"],
                    data={
                        "key": entry["key"],
                        "version": entry["version"],
                        "kind": "bpmn" if entry in result.processes else "dmn",
                        "deployment_id": deployment.id,
                    },
                )
        result.fresh = fresh
        return result

    result = run_command(body)
    for key, process in result.fresh.items():
        definition = result.definitions[key]
        specs.remember(definition, process.spec, process.subprocess_specs)
    return result


def _checksum_with_tests(checksum: str, tests: str | None) -> str:
    """A version's identity with its test file: changed tests alone make a new version."""
    if not tests:
        return checksum
    return hashlib.sha256(f"{checksum}\0{tests}".encode()).hexdigest()


def _store_sla_targets(process) -> None:
    """The SLA targets the new version declares become its type's sla_policy rows (checked above)."""
    targets = process_targets(checks.safe_tree(process.source, "bpmn"), process.key)
    for priority, given in targets["priorities"].items():
        current = sla.policy_for(process.key, priority)
        sla.set_policy(
            process.key,
            priority,
            given.get("first_response_minutes", current.first_response_minutes),
            given.get("resolution_minutes", current.resolution_minutes),
            targets["team"] if targets["team"] is not None else current.team_key,
        )


def _version_of(key: str, kind: str, checksum: str, make) -> tuple[ProcessDefinition, bool]:
    latest = latest_definition(key)
    if latest is not None and latest.kind != kind:
        raise DiagramRejected(
            [Problem(key, f"the key '{key}' is already used by a {latest.kind.upper()} definition")]
        )
    if latest is not None and latest.checksum == checksum:
        return latest, False
    return make((latest.version + 1) if latest else 1), True


def deploy(
    source: bytes, actor_id: int | None = None, actor: str | None = None, filename: str | None = None
) -> tuple[ProcessDefinition, bool]:
    """Deploy one BPMN or DMN file; forms, decisions and called processes resolve against what
    is deployed (and, for forms, the FORMS_DIR folder).

    Returns:
        (definition, created) of the file's main process (the one no other process of the file
        calls) or of its decision; created is False when nothing changed.

    Raises:
        DiagramRejected: listing every problem by element id; nothing is stored.
    """
    limit = current_app.config["MAX_DIAGRAM_BYTES"]
    if len(source) > limit:
        raise DiagramRejected([Problem(None, f"the file is larger than {limit} bytes")])
    name = filename or ("upload.dmn" if b"/DMN/" in source[:2000] else "upload.bpmn")
    result = deploy_bundle([(name, source)], actor_id=actor_id, actor=actor)
    if result.processes:
        main = _main_process(result)
        return result.definitions[main["key"]], main["created"]
    if result.decisions:
        entry = result.decisions[0]
        return latest_definition(entry["key"], "dmn"), entry["created"]
    raise DiagramRejected(
        [Problem(None, 'the file has no executable process (set isExecutable="true" on the process)')]
    )


def _main_process(result: DeployResult) -> dict:
    """The entry of the process no other process of the deployment calls (first if several)."""
    called = set()
    for entry in result.processes:
        called.update((result.definitions[entry["key"]].dependencies or {}).get("calls", []))
    top = [e for e in result.processes if e["key"] not in called]
    return (top or result.processes)[0]
