"""The command latency histogram: every outermost engine command this process ran, by name and outcome.

Process-local: behind gunicorn each worker process keeps its own and a scrape reaches one of
them (docs/operations.md says how to read it). Commands run by the worker process (`flask worker`)
are counted there, not in the web processes.
"""

from prometheus_client import CollectorRegistry, Histogram

# Seconds: a command takes a few milliseconds; the top buckets catch lock waits and retries.
BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class CommandLatency:
    """`observe(name, seconds, outcome)`: the engine's command observer signature."""

    def __init__(self, registry: CollectorRegistry):
        self.histogram = Histogram(
            "ticketflow_command_duration_seconds",
            "Time an engine command took in this process (retries included), by command and outcome.",
            ("command", "outcome"),
            buckets=BUCKETS,
            registry=registry,
        )

    def observe(self, name: str, seconds: float, outcome: str) -> None:
        self.histogram.labels(command=name, outcome=outcome).observe(seconds)
