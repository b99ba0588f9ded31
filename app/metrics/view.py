"""`GET /metrics`: the registry of the app in the Prometheus text format, optionally behind a token.

No session: a scraper signs in with nothing, or with `Authorization: Bearer <METRICS_TOKEN>` when
the config sets one (401 without it).
"""

import hmac

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics():
    """The figures for Prometheus (its text format)."""
    expected = current_app.config.get("METRICS_TOKEN")
    if expected:
        given = request.headers.get("Authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
            return Response(
                "a bearer token is required (METRICS_TOKEN)\n",
                status=401,
                mimetype="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    registry = current_app.extensions["ticketflow_metrics"]
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
