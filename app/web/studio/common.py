"""What the studio's JSON views share: input checks (422 naming the field), the caller's draft,
the newest version of a type and the running counts."""

import re

from flask import abort, current_app, request
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app.errors import json_error
from app.extensions import db
from app.inputs import loads_strict
from app.models import ProcessDefinition, ProcessInstance, StudioDraft, User
from app.web.studio.blueprint import bp

KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,126}\.(bpmn|dmn|json)")
MAX_FILES = 200
MAX_NAME = 200
MAX_COMMENT = 500
ANALYSTS = ("analyst", "admin")


class BadInput(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


@bp.errorhandler(BadInput)
def _bad_input(exc: BadInput):
    return json_error(422, exc.message, errors={exc.field: exc.message})


@bp.errorhandler(IntegrityError)
def _raced(exc: IntegrityError):
    """Two saves of the same draft at once (unique user and key): the later one is told to retry."""
    db.session.rollback()
    return json_error(409, "the draft was saved at the same moment elsewhere; reload it and try again")


def body() -> dict:
    """The JSON object sent: up to a bundle's size (MAX_BUNDLE_BYTES, plus room for the JSON
    around the files), read strictly (app/inputs.py); 413 above, 422 naming `body` if no object."""
    limit = current_app.config["MAX_BUNDLE_BYTES"] + 65536
    if (request.content_length or 0) > limit:
        abort(413)
    try:
        data = loads_strict(request.get_data(cache=True))
    except ValueError as exc:
        raise BadInput("body", f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadInput("body", "send a JSON object")
    return data


def checked_files(value) -> dict[str, str]:
    """The draft's files, refused (422 naming `files`) unless safe names, text, and bounded."""
    if not isinstance(value, dict):
        raise BadInput("files", "must be an object of file name to text")
    if len(value) > MAX_FILES:
        raise BadInput("files", f"at most {MAX_FILES} files")
    config = current_app.config
    total = 0
    for name, text in value.items():
        if not FILE_NAME.fullmatch(name) or ".." in name:
            raise BadInput(
                "files",
                f"'{name[:80]}' is not a file name of letters, digits, '_', '-', '.', "
                "ending .bpmn, .dmn or .json",
            )
        if not isinstance(text, str):
            raise BadInput("files", f"the content of '{name}' must be text")
        size = len(text.encode())
        if size > config["MAX_DIAGRAM_BYTES"]:
            raise BadInput("files", f"'{name}' is larger than {config['MAX_DIAGRAM_BYTES']} bytes")
        if "\x00" in text:
            raise BadInput("files", f"'{name}' holds a NUL character")
        total += size
    if total > config["MAX_BUNDLE_BYTES"]:
        raise BadInput("files", f"the files are larger than {config['MAX_BUNDLE_BYTES']} bytes in all")
    return dict(value)


def type_key(key: str) -> str:
    """`key` if it names a deployed type or one of the caller's drafts; else 404."""
    if not KEY.fullmatch(key) or (latest(key) is None and my_draft(key) is None):
        abort(404)
    return key


def latest(key: str) -> ProcessDefinition | None:
    return db.session.execute(
        db.select(ProcessDefinition)
        .where(ProcessDefinition.key == key, ProcessDefinition.kind == "bpmn")
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    ).scalar()


def my_draft(key: str) -> StudioDraft | None:
    return db.session.execute(
        db.select(StudioDraft).where(StudioDraft.user_id == current_user.id, StudioDraft.key == key)
    ).scalar()


def running_counts() -> dict[str, dict[str, int]]:
    """{type key: {version: tickets running on it}}."""
    rows = db.session.execute(
        db.select(ProcessDefinition.key, ProcessDefinition.version, db.func.count(ProcessInstance.id))
        .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
        .where(ProcessInstance.ended_at.is_(None))
        .group_by(ProcessDefinition.key, ProcessDefinition.version)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for key, version, count in rows:
        counts.setdefault(key, {})[str(version)] = count
    return counts


def _usernames() -> dict[int, str]:
    return dict(db.session.execute(db.select(User.id, User.username)).all())


def _iso(value):
    return value.isoformat() if value is not None else None
