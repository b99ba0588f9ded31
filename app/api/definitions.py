"""Deployments and process definitions: deploy a bundle or one file, read versions and forms."""

from flask import abort, current_app, g, jsonify, request

from app.api.auth import token_required
from app.api.blueprint import bp
from app.engine import deploy, deploy_bundle, retired_types
from app.errors import json_error
from app.extensions import db
from app.inputs import query_int
from app.models import STAFF, FormDefinition, ProcessDefinition


@bp.post("/deployments")
@token_required("analyst", "admin")
def create_deployment():
    """Deploy a bundle (several multipart `file` fields, or one .zip): all or nothing.

    201 with what was made, 200 when everything was deployed already, 422 listing every
    problem as {file, element_id, message}.
    """
    if (request.content_length or 0) > current_app.config["MAX_BUNDLE_BYTES"] + 65536:
        abort(413)
    uploads = [(f.filename or "upload", f.read()) for f in request.files.getlist("file")]
    if not uploads:
        return json_error(
            422,
            "send the bundle's files as multipart fields named 'file' (or one .zip)",
            errors=[{"file": None, "element_id": None, "message": "no file in the request"}],
        )
    result = deploy_bundle(uploads, actor_id=g.api_user.id, actor=g.api_user.username)
    return jsonify(result.as_dict()), 201 if result.created else 200


@bp.get("/process-definitions/<key>/versions/<int:version>")
@token_required(*STAFF)
def definition_version(key: str, version: int):
    """One version: its BPMN (or DMN) XML, the forms and decisions it was deployed with."""
    row = db.session.execute(
        db.select(ProcessDefinition).where(ProcessDefinition.key == key, ProcessDefinition.version == version)
    ).scalar()
    if row is None:
        return json_error(404, f"no version {version} of '{key}'")
    deps = row.dependencies or {}
    return jsonify(
        {
            "key": row.key,
            "version": row.version,
            "kind": row.kind,
            "name": row.name,
            "deployment_id": row.deployment_id,
            "deployed_at": row.deployed_at.isoformat(),
            "xml": row.source.decode(),
            "start_form": row.start_form,
            "forms": sorted(row.forms or {}),
            "decisions": sorted(deps.get("dmn", {})),
            "calls": deps.get("calls", []),
            "called_files": sorted(deps.get("bpmn", {})),
        }
    )


@bp.get("/forms/<path:name>")
@token_required(*STAFF, "customer")
def get_form(name: str):
    """A deployed form (JSON Schema or UI schema): `?version=` or the latest."""
    query = db.select(FormDefinition).where(FormDefinition.name == name)
    version = query_int("version")
    if version is not None:
        query = query.where(FormDefinition.version == version)
    row = db.session.execute(query.order_by(FormDefinition.version.desc()).limit(1)).scalar()
    if row is None:
        return json_error(404, f"no form '{name}'" + (f" version {version}" if version else ""))
    return jsonify(
        {"name": row.name, "version": row.version, "deployment_id": row.deployment_id, "schema": row.schema}
    )


@bp.post("/process-definitions")
@token_required("analyst", "admin")
def deploy_definition():
    """Deploy a diagram: 201 new version, 200 unchanged, 422 with every problem."""
    if (request.content_length or 0) > current_app.config["MAX_DIAGRAM_BYTES"]:
        abort(413)
    upload = request.files.get("file")
    source = upload.read() if upload is not None else request.get_data()
    if not source:
        return json_error(
            422,
            "send the diagram as multipart field 'file' or as the raw XML body",
            errors=[{"element_id": None, "message": "empty upload"}],
        )
    definition, created = deploy(
        source,
        actor_id=g.api_user.id,
        actor=g.api_user.username,
        filename=upload.filename if upload is not None else None,
    )
    body = {
        "key": definition.key,
        "version": definition.version,
        "kind": definition.kind,
        "id": definition.id,
    }
    return jsonify(body), 201 if created else 200


@bp.get("/process-definitions")
@token_required(*STAFF, "customer")
def list_definitions():
    """Every key with its versions, and the start form of its latest version."""
    rows = db.session.execute(
        db.select(
            ProcessDefinition.key,
            ProcessDefinition.version,
            ProcessDefinition.kind,
            ProcessDefinition.name,
            ProcessDefinition.start_form,
            ProcessDefinition.forms,
            ProcessDefinition.deployed_at,
        ).order_by(ProcessDefinition.key, ProcessDefinition.version)
    ).all()
    by_key: dict[str, dict] = {}
    retired = retired_types()
    for key, version, kind, name, start_form, forms, deployed_at in rows:
        entry = by_key.setdefault(key, {"key": key, "kind": kind, "versions": [], "retired": key in retired})
        entry["versions"].append({"version": version, "deployed_at": deployed_at.isoformat()})
        entry.update(
            name=name,
            latest_version=version,
            start_form=(forms or {}).get(start_form) if start_form else None,
        )
    return jsonify({"definitions": list(by_key.values())})
