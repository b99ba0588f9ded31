"""The studio's JSON: ticket types, drafts (per analyst and type), checks and deploys.

Analysts and admins only (others get a 404). Drafts are bundles {file name: text} kept per user
and type; saving one runs the deploy checks and never touches what runs. Deploying one goes
through the engine's deploy command with the same checks as every other deployment.
"""

from flask import current_app, jsonify, request
from flask_login import current_user

from app.access import roles_required
from app.clock import utcnow
from app.engine import (
    DiagramRejected,
    check_bundle_files,
    check_files,
    definition_files,
    deploy_bundle,
    retired_types,
)
from app.extensions import db
from app.models import ProcessDefinition, StudioDraft
from app.transactions import write_transaction
from app.web.studio.blueprint import bp
from app.web.studio.common import (
    ANALYSTS,
    KEY,
    MAX_COMMENT,
    MAX_NAME,
    BadInput,
    _iso,
    _usernames,
    body,
    checked_files,
    json_error,
    latest,
    my_draft,
    running_counts,
    type_key,
)
from app.web.studio.process_tests import deploy_gate
from app.web.studio.template import template_files


@bp.get("/api/types")
@roles_required(*ANALYSTS)
def list_types():
    """Every deployed type and every type only the caller has a draft of."""
    newest = (
        db.select(ProcessDefinition.key, db.func.max(ProcessDefinition.version).label("version"))
        .where(ProcessDefinition.kind == "bpmn")
        .group_by(ProcessDefinition.key)
        .subquery()
    )
    rows = db.session.execute(
        db.select(ProcessDefinition).join(
            newest, (ProcessDefinition.key == newest.c.key) & (ProcessDefinition.version == newest.c.version)
        )
    ).scalars()
    drafts = {
        d.key: d
        for d in db.session.execute(
            db.select(StudioDraft).where(StudioDraft.user_id == current_user.id)
        ).scalars()
    }
    counts, retired, names = running_counts(), retired_types(), _usernames()
    types = {}
    for row in rows:
        types[row.key] = {
            "key": row.key,
            "name": row.name or row.key,
            "latest_version": row.version,
            "deployed_by": names.get(row.deployed_by_id),
            "deployed_at": _iso(row.deployed_at),
            "running": counts.get(row.key, {}),
            "retired": row.key in retired,
            "has_draft": row.key in drafts,
        }
    for key, draft in drafts.items():
        types.setdefault(
            key,
            {
                "key": key,
                "name": draft.name or key,
                "latest_version": None,
                "deployed_by": None,
                "deployed_at": None,
                "running": {},
                "retired": False,
                "has_draft": True,
            },
        )
    return jsonify({"types": sorted(types.values(), key=lambda t: t["name"].lower())})


@bp.post("/api/types")
@roles_required(*ANALYSTS)
def create_type():
    """A new type: the caller's draft made from the template (start form, one user task, end)."""
    data = body()
    key, name = data.get("key"), data.get("name")
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise BadInput(
            "key", "a key starts with a letter or '_' and holds letters, digits and '_' (63 at most)"
        )
    taken = db.session.execute(
        db.select(ProcessDefinition.id).where(ProcessDefinition.key == key).limit(1)
    ).scalar()
    if taken is not None or my_draft(key) is not None:
        raise BadInput("key", f"the key '{key}' is taken")
    if name is None or name == "":
        name = key.replace("_", " ").capitalize()
    if not isinstance(name, str) or len(name) > MAX_NAME or "\x00" in name or not name.strip():
        raise BadInput("name", f"a name is text of 1 to {MAX_NAME} characters")
    files = template_files(key, name.strip(), current_app.config["DEFAULT_TEAM"])
    with write_transaction():
        db.session.add(
            StudioDraft(
                user_id=current_user.id,
                key=key,
                name=name.strip(),
                files=files,
                base_version=None,
                updated_at=utcnow(),
            )
        )
    return jsonify({"key": key}), 201


@bp.route("/api/types/<key>/draft", methods=["GET", "PUT", "DELETE"])
@roles_required(*ANALYSTS)
def draft(key: str):
    """One endpoint for the three verbs, so the URL-map tests reach it with a GET."""
    if request.method == "PUT":
        return save_draft(key)
    if request.method == "DELETE":
        return discard_draft(key)
    return get_draft(key)


def get_draft(key: str):
    key = type_key(key)
    draft = my_draft(key)
    if draft is not None:
        return jsonify(
            {
                "key": key,
                "files": draft.files or {},
                "base_version": draft.base_version,
                "updated_at": _iso(draft.updated_at),
                "saved": True,
            }
        )
    row = latest(key)
    return jsonify(
        {
            "key": key,
            "files": definition_files(row),
            "base_version": row.version,
            "updated_at": None,
            "saved": False,
        }
    )


def save_draft(key: str):
    """Save the caller's draft (whatever its problems) and answer with them."""
    if not KEY.fullmatch(key):
        return json_error(404, f"no ticket type '{key[:80]}'")
    files = checked_files(body().get("files"))
    with write_transaction():
        draft = my_draft(key)
        if draft is None:
            row = latest(key)
            draft = StudioDraft(user_id=current_user.id, key=key, base_version=row.version if row else None)
            db.session.add(draft)
        draft.files, draft.updated_at = files, utcnow()
    return jsonify({"saved": True, "problems": check_bundle_files(files)})


@bp.post("/api/types/<key>/check")
@roles_required(*ANALYSTS)
def check_draft(key: str):
    if not KEY.fullmatch(key):
        return json_error(404, f"no ticket type '{key[:80]}'")
    return jsonify({"problems": check_bundle_files(checked_files(body().get("files")))})


def discard_draft(key: str):
    key = type_key(key)
    with write_transaction():
        draft = my_draft(key)
        if draft is not None:
            db.session.delete(draft)
    return jsonify({"discarded": True})


@bp.post("/api/types/<key>/deploy")
@roles_required(*ANALYSTS)
def deploy_draft(key: str):
    """Deploy the caller's saved draft: version N+1, or `unchanged`; the draft is then removed.

    Its process tests run first: a failing one refuses the deploy (422 with the results) unless
    `override_tests` is true, which the deployment and the history record."""
    key = type_key(key)
    data = body()
    comment = data.get("comment")
    if comment is not None and (
        not isinstance(comment, str) or len(comment) > MAX_COMMENT or "\x00" in comment
    ):
        raise BadInput("comment", f"a comment is text of at most {MAX_COMMENT} characters")
    draft = my_draft(key)
    if draft is None:
        raise BadInput("draft", "there is no saved draft of this type: save it first")
    uploads = [(name, text.encode()) for name, text in (draft.files or {}).items()]
    problems = _scope_problems(key, uploads)
    if problems:
        return json_error(422, "the draft does not pass the deploy checks", problems=problems)
    tests, outcome, refused = deploy_gate(key, draft.files or {}, data.get("override_tests"))
    if refused is not None:
        return refused
    try:
        result = deploy_bundle(
            uploads, actor_id=current_user.id, actor=current_user.username, comment=comment, tests=tests
        )
    except DiagramRejected as exc:
        return json_error(422, "the draft does not pass the deploy checks", problems=_errors(exc))
    entry = next(p for p in result.processes if p["key"] == key)
    with write_transaction():
        stale = my_draft(key)
        if stale is not None:
            db.session.delete(stale)
    answer = {"version": entry["version"], "unchanged": not entry["created"]}
    return jsonify(answer if outcome is None else {**answer, "tests": outcome})


def _errors(exc: DiagramRejected) -> list[dict]:
    return [{"severity": "error", **p.as_dict()} for p in exc.problems]


def _scope_problems(key: str, uploads: list[tuple[str, bytes]]) -> list[dict]:
    """Errors that stop the draft of `key` deploying: the deploy checks', a missing process
    `key`, or another type's process in it (a draft deploys its own type and what that calls)."""
    try:
        checked = check_files(uploads)
    except DiagramRejected as exc:
        return _errors(exc)
    main = next((p for p in checked.processes if p.key == key), None)
    if main is None:
        message = f"the draft has no executable process with the id '{key}'"
        return [{"severity": "error", "file": f"{key}.bpmn", "element_id": None, "message": message}]
    return [
        {
            "severity": "error",
            "file": p.file,
            "element_id": p.key,
            "message": f"the process '{p.key}' is not '{key}' nor called by it: deploy it as its own type",
        }
        for p in checked.processes
        if p.key != key and p.key not in (main.calls or [])
    ]
