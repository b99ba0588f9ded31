"""`/metrics` in the Prometheus text format, for a scraper: figures read from the database at
scrape time (tickets, tasks, SLA breaches, jobs, incidents, timer lag, alerts) and a histogram of
engine command latency kept by this process.

`init_app` gives the app its own registry (so two apps in one process, as in the tests, never
share a series), registers the latency histogram as an engine command observer
(`app.engine.register_observer`) and adds the route. docs/operations.md lists every series.
"""

from flask import Flask
from prometheus_client import CollectorRegistry

from app.engine import register_observer
from app.metrics.collector import DatabaseCollector
from app.metrics.latency import CommandLatency
from app.metrics.view import bp

EXTENSION = "ticketflow_metrics"


def init_app(app: Flask) -> None:
    """A registry per app with the database collector and the command latency histogram."""
    registry = CollectorRegistry(auto_describe=True)
    latency = CommandLatency(registry)
    registry.register(DatabaseCollector(app))
    app.extensions[EXTENSION] = registry
    register_observer(app, latency.observe)
    app.register_blueprint(bp)
