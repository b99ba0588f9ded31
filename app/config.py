"""Configuration read from environment variables, with working defaults."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class Config:
    """Settings for a running server; every value can be overridden by the environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", _sqlite_url(BASE_DIR / "instance" / "ticketflow.db")
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    PROCESSES_DIR = Path(os.environ.get("PROCESSES_DIR", BASE_DIR / "processes"))
    FORMS_DIR = Path(os.environ.get("FORMS_DIR", BASE_DIR / "forms"))
    # Form posts may carry attachments (5 MiB each); diagrams stay capped at MAX_DIAGRAM_BYTES.
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    MAX_DIAGRAM_BYTES = 2 * 1024 * 1024
    MAX_BUNDLE_BYTES = 8 * 1024 * 1024  # a deployment's files together (a .zip once expanded)
    # User tasks whose lane names no team (diagrams from elsewhere) go to this team.
    DEFAULT_TEAM = os.environ.get("DEFAULT_TEAM", "support")
    # The embedded worker (make run) fires timers and runs jobs inside the dev server.
    EMBEDDED_WORKER = os.environ.get("EMBEDDED_WORKER", "0") == "1"
    WORKER_SWEEP_SECONDS = float(os.environ.get("WORKER_SWEEP_SECONDS", "2"))
    JOB_LEASE_SECONDS = int(os.environ.get("JOB_LEASE_SECONDS", "60"))
    COMMAND_RETRIES = 5  # optimistic-lock attempts before a command answers 409
    # Data sent without a form (a formless task or start) is merged into the process data as it
    # is: at most this many bytes as JSON (app/engine/forms.py check_formless_data).
    MAX_PROCESS_DATA_BYTES = int(os.environ.get("MAX_PROCESS_DATA_BYTES", str(64 * 1024)))
    # JSON bodies (app/inputs.py): at most this many bytes (413) and levels of nesting (400).
    MAX_JSON_BYTES = int(os.environ.get("MAX_JSON_BYTES", str(1024 * 1024)))
    MAX_JSON_DEPTH = int(os.environ.get("MAX_JSON_DEPTH", "64"))
    ARGON2_TIME_COST = 3  # argon2-cffi's RFC 9106 low-memory profile
    ARGON2_MEMORY_KIB = 65536
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Links in e-mails (the satisfaction survey) point here; survey links live this many days.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    FEEDBACK_LINK_DAYS = int(os.environ.get("FEEDBACK_LINK_DAYS", "14"))
    # How long after a ticket closes its survey goes out, per ticket type (ISO-8601 durations;
    # a type not listed waits P1D). The engine passes the value to the process as feedback_delay.
    FEEDBACK_DELAY = {"return": "P1D", "credit": "P1D", "general": "P1D", "complaint": "P1D"}


class TestConfig(Config):
    """Settings for the test suite: a database given by the fixture, no embedded worker."""

    TESTING = True
    SECRET_KEY = "test"
    EMBEDDED_WORKER = False
    ARGON2_TIME_COST = 1  # fast hashes in tests; production keeps the strong defaults
    ARGON2_MEMORY_KIB = 8192
