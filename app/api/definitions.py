"""Process definitions: deploy a BPMN or DMN file, list keys with versions and start forms."""

from flask import abort, current_app, g, jsonify, request

from app.api import bp
from app.api.auth import STAFF, token_required
from app.api.errors import api_error
from app.engine import deploy
from app.extensions import db
from app.models import ProcessDefinition


@bp.post("/process-definitions")
@token_required("analyst", "admin")
def deploy_definition():
    """Deploy a diagram: 201 new version, 200 unchanged, 422 with every problem."""
    if (request.content_length or 0) > current_app.config["MAX_DIAGRAM_BYTES"]:
        abort(413)
    upload = request.files.get("file")
    source = upload.read() if upload is not None else request.get_data()
    if not source:
        return api_error(422, "send the diagram as multipart field 'file' or as the raw XML body",
                         errors=[{"element_id": None, "message": "empty upload"}])
    definition, created = deploy(source, actor_id=g.api_user.id, actor=g.api_user.username)
    body = {"key": definition.key, "version": definition.version, "kind": definition.kind,
            "id": definition.id}
    return jsonify(body), 201 if created else 200


@bp.get("/process-definitions")
@token_required(*STAFF, "customer")
def list_definitions():
    """Every key with its versions, and the start form of its latest version."""
    rows = db.session.execute(db.select(ProcessDefinition.key, ProcessDefinition.version,
                                        ProcessDefinition.kind, ProcessDefinition.name,
                                        ProcessDefinition.start_form, ProcessDefinition.forms,
                                        ProcessDefinition.deployed_at)
                              .order_by(ProcessDefinition.key, ProcessDefinition.version)).all()
    by_key: dict[str, dict] = {}
    for key, version, kind, name, start_form, forms, deployed_at in rows:
        entry = by_key.setdefault(key, {"key": key, "kind": kind, "versions": []})
        entry["versions"].append({"version": version, "deployed_at": deployed_at.isoformat()})
        entry.update(name=name, latest_version=version,
                     start_form=(forms or {}).get(start_form) if start_form else None)
    return jsonify({"definitions": list(by_key.values())})
