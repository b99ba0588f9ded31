"""The studio's decisions: the DMN text of a deployed decision, to copy into a draft (the Decisions
tab offers the deployed ones, e.g. `assignment` and `priority`, beside the draft's own files)."""

from flask import jsonify

from app.access import roles_required
from app.engine import deployed_decision
from app.web.studio.blueprint import bp
from app.web.studio.common import ANALYSTS, json_error
from app.web.studio.tools import DECISION_ID


@bp.get("/api/decisions/<decision_id>")
@roles_required(*ANALYSTS)
def decision(decision_id: str):
    """{decision_id, file, dmn}: the latest deployed version of the decision, as its DMN file."""
    found = deployed_decision(decision_id) if DECISION_ID.fullmatch(decision_id) else None
    if found is None:
        return json_error(404, f"no deployed decision '{decision_id[:80]}'")
    return jsonify(found)
