"""Incidents: steps that failed for good, and the retry button.

Scoped like tickets (`app.access.incident_condition`): a person sees and retries the incidents
of the tickets they may see; admins all. Another team's incident answers 404.
"""

from flask import g, jsonify

from app.access import incident_condition, scope_of
from app.api.auth import token_required
from app.api.blueprint import bp
from app.api.serialize import iso
from app.engine import retry_incident
from app.errors import json_error
from app.extensions import db
from app.inputs import query_enum
from app.models import Incident, Job


def _visible(query):
    return query.where(incident_condition(scope_of(g.api_user), g.api_user.username))


@bp.get("/incidents")
@token_required("agent", "manager", "admin", "analyst")
def list_incidents():
    """Open incidents of the caller's teams' tickets (all, resolved too, with ?all=1), newest first."""
    query = _visible(db.select(Incident, Job).outerjoin(Job, Job.id == Incident.job_id))
    if query_enum("all", ("0", "1")) != "1":
        query = query.where(Incident.resolved_at.is_(None))
    rows = db.session.execute(query.order_by(Incident.id.desc()).limit(500)).all()
    return jsonify(
        {
            "incidents": [
                {
                    "id": i.id,
                    "instance_id": i.instance_id,
                    "ticket_id": i.ticket_id,
                    "kind": i.kind,
                    "element_id": i.element_id,
                    "operator": job.operator if job else None,
                    "message": i.message,
                    "created_at": iso(i.created_at),
                    "resolved_at": iso(i.resolved_at),
                    "attempts": job.attempts if job else None,
                    "max_attempts": job.max_attempts if job else None,
                    "last_error": job.last_error if job else None,
                    "next_retry_at": iso(job.next_run_at) if job and job.status == "pending" else None,
                }
                for i, job in rows
            ]
        }
    )


@bp.post("/incidents/<int:incident_id>/retry")
@token_required("manager", "admin")
def retry(incident_id: int):
    """Try the failed step again now (404 for an incident of a ticket the caller may not see)."""
    visible = (
        incident_id < 2**63
        and db.session.execute(_visible(db.select(Incident.id).where(Incident.id == incident_id))).scalar()
    )
    if not visible:
        return json_error(404, f"incident {incident_id} not found")
    incident = retry_incident(incident_id, actor=g.api_user.username)
    return jsonify({"id": incident.id, "resolved_at": iso(incident.resolved_at), "retrying": True})
