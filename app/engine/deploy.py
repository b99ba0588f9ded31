"""The deploy command: check a diagram and store it as a new immutable version."""

import hashlib
import json
from pathlib import Path

from flask import current_app

from app.engine import rules, specs
from app.engine.diagrams import detect_kind, parse_bpmn, parse_dmn
from app.engine.errors import DiagramRejected, Problem
from app.engine.forms import with_field_order
from app.engine.runner import history, run_command
from app.extensions import db
from app.handlers import HANDLERS
from app.models import ProcessDefinition


def _load_form(name: str) -> dict | None:
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


def _deployed_dmn_sources() -> dict[str, str]:
    sources = {}
    rows = db.session.execute(db.select(ProcessDefinition).where(ProcessDefinition.kind == "dmn")
                              .order_by(ProcessDefinition.version)).scalars()
    for row in rows:  # later versions overwrite earlier ones
        sources.update((row.dependencies or {}).get("dmn", {}))
    return sources


def deploy(source: bytes, actor_id: int | None = None, actor: str | None = None) -> tuple[ProcessDefinition, bool]:
    """Check a BPMN or DMN file and store it as the next version of its key.

    Args:
        source: the file's bytes.
        actor_id: the deploying user.
        actor: the deploying user's name, for history.

    Returns:
        (definition, created): created is False when identical bytes were already deployed.

    Raises:
        DiagramRejected: listing every problem by element id; nothing is stored.
    """
    limit = current_app.config["MAX_DIAGRAM_BYTES"]
    if len(source) > limit:
        raise DiagramRejected([Problem(None, f"the file is larger than {limit} bytes")])
    kind = detect_kind(source)
    if kind == "dmn":
        parsed = parse_dmn(source)
        problems = rules.check_decisions(parsed.dmn_sources)
        if problems:
            raise DiagramRejected(problems)
    else:
        parsed = parse_bpmn(source, known_operators=set(HANDLERS), load_form=_load_form,
                            dmn_sources=_deployed_dmn_sources())
    checksum = hashlib.sha256(source).hexdigest()

    def body():
        latest = latest_definition(parsed.key)
        if latest is not None and latest.kind != kind:
            raise DiagramRejected([Problem(parsed.key, f"the key '{parsed.key}' is already used by a "
                                                       f"{latest.kind.upper()} definition")])
        if latest is not None and latest.checksum == checksum:
            return latest, False
        definition = ProcessDefinition(
            key=parsed.key, version=(latest.version + 1) if latest else 1, kind=kind,
            name=parsed.name, source=source, checksum=checksum, forms=parsed.forms,
            start_form=parsed.start_form, dependencies={"dmn": parsed.dmn_sources},
            deployed_by_id=actor_id)
        db.session.add(definition)
        db.session.flush()
        history("definition_deployed", actor=actor, element_id=parsed.key,
                data={"key": parsed.key, "version": definition.version, "kind": kind})
        return definition, True

    definition, created = run_command(body)
    if created and kind == "bpmn":
        specs.remember(definition, parsed.spec, parsed.subprocess_specs)
    return definition, created
