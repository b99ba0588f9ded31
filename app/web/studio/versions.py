"""The studio's versions of a type: list, open, download as a bundle, restore as the draft; and
retiring a type (no new tickets; running ones finish)."""

import io
import zipfile

from flask import abort, jsonify, send_file
from flask_login import current_user

from app.access import roles_required
from app.clock import utcnow
from app.engine import retire_type, version_files
from app.extensions import db
from app.models import Deployment, ProcessDefinition, StudioDraft
from app.transactions import write_transaction
from app.web.studio.blueprint import bp
from app.web.studio.common import (
    ANALYSTS,
    KEY,
    _iso,
    _usernames,
    json_error,
    latest,
    my_draft,
    running_counts,
    type_key,
)


@bp.get("/api/types/<key>/versions")
@roles_required(*ANALYSTS)
def list_versions(key: str):
    key = type_key(key)
    rows = db.session.execute(
        db.select(ProcessDefinition, Deployment.comment, Deployment.tests)
        .outerjoin(Deployment, Deployment.id == ProcessDefinition.deployment_id)
        .where(ProcessDefinition.key == key, ProcessDefinition.kind == "bpmn")
        .order_by(ProcessDefinition.version.desc())
    ).all()
    counts, names = running_counts().get(key, {}), _usernames()
    return jsonify(
        {
            "versions": [
                {
                    "version": row.version,
                    "deployed_by": names.get(row.deployed_by_id),
                    "deployed_at": _iso(row.deployed_at),
                    "comment": comment,
                    "tests": tests,
                    "running": counts.get(str(row.version), 0),
                }
                for row, comment, tests in rows
            ]
        }
    )


def _files_or_404(key: str, version: int) -> dict[str, str]:
    files = version_files(key, version) if KEY.fullmatch(key) else None
    if files is None:
        abort(404)
    return files


@bp.get("/api/types/<key>/versions/<int:version>")
@roles_required(*ANALYSTS)
def get_version(key: str, version: int):
    return jsonify({"version": version, "files": _files_or_404(key, version)})


@bp.get("/types/<key>/versions/<int:version>.zip")
@roles_required(*ANALYSTS)
def download_version(key: str, version: int):
    """The version as a bundle (.zip) that POST /api/v1/deployments takes back as it is."""
    files = _files_or_404(key, version)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in sorted(files.items()):
            archive.writestr(name, text)
    buffer.seek(0)
    return send_file(
        buffer, mimetype="application/zip", as_attachment=True, download_name=f"{key}-v{version}.zip"
    )


@bp.post("/api/types/<key>/versions/<int:version>/restore")
@roles_required(*ANALYSTS)
def restore_version(key: str, version: int):
    """The version's files become the caller's draft (replacing any draft they had)."""
    files = _files_or_404(key, version)
    with write_transaction():
        draft = my_draft(key)
        if draft is None:
            draft = StudioDraft(user_id=current_user.id, key=key)
            db.session.add(draft)
        draft.files, draft.base_version, draft.updated_at = files, version, utcnow()
    return jsonify({"restored": True})


def _set_retired(key: str, retired: bool):
    if not KEY.fullmatch(key) or latest(key) is None:
        return json_error(404, f"no deployed ticket type '{key[:80]}'")
    state = retire_type(key, retired, actor_id=current_user.id, actor=current_user.username)
    return jsonify({"retired": state})


@bp.post("/api/types/<key>/retire")
@roles_required(*ANALYSTS)
def retire(key: str):
    """No new tickets of this type (portal and API refuse it); running ones finish."""
    return _set_retired(key, True)


@bp.post("/api/types/<key>/unretire")
@roles_required(*ANALYSTS)
def unretire(key: str):
    return _set_retired(key, False)
