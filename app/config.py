"""Configuration read from environment variables, with working defaults.

No usable secret ships with the code: SECRET_KEY comes from the environment or, outside
production, from `instance/secret_key`, generated on the first run (`secret_key()`).
Production mode is `TICKETFLOW_ENV=production`; it refuses to start without SECRET_KEY.
Numbers and durations read from the environment are checked when the app starts (`env_int`,
`env_float`, `env_durations`): a bad value stops it with a ConfigError naming the variable.
"""

import os
import re
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY_FILE = "secret_key"
MIN_SECRET_KEY_LENGTH = 32


def default_currency() -> str:
    """The running app's DEFAULT_CURRENCY (the environment's outside an app)."""
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.config.get("DEFAULT_CURRENCY") or "EUR"
    return os.environ.get("DEFAULT_CURRENCY", "EUR").strip().upper() or "EUR"


class MissingSecretKey(RuntimeError):
    """Production mode without a SECRET_KEY (or with one too short to be a secret)."""


def secret_key(instance_path: str | Path, production: bool) -> str:
    """The key that signs sessions and survey links when the environment gives none.

    In production there is no fallback: raises MissingSecretKey. Otherwise the key kept in
    `instance/secret_key` (mode 0600), made on the first run so that sessions and survey links
    survive a restart. Two processes starting together agree: the file appears atomically.
    """
    if production:
        raise MissingSecretKey(
            "TICKETFLOW_ENV=production needs SECRET_KEY in the environment "
            f"(at least {MIN_SECRET_KEY_LENGTH} characters, e.g. from `python -c 'import secrets; "
            "print(secrets.token_hex(32))'`)"
        )
    path = Path(instance_path) / SECRET_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32) + "\n")
        try:
            os.link(draft, path)  # atomic, and refuses to replace a key another process just made
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    key = path.read_text().strip()
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise MissingSecretKey(f"{path} holds no usable key; delete it to have a new one made")
    return key


class ConfigError(RuntimeError):
    """An environment variable whose value cannot be used; the message names it and what it takes."""


# ISO-8601 durations as timers take them: P1D, PT30M, P1DT12H, PT90S (weeks: P2W).
DURATION = re.compile(r"P(?=\d|T\d)(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    """The whole number in environment variable `name` (at least `minimum`), else `default`."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.lstrip("-").isdigit()) or int(raw) < minimum:
        raise ConfigError(f"{name}={raw!r}: must be a whole number, at least {minimum}")
    return int(raw)


def env_float(name: str, default: float, minimum: float = 0) -> float:
    """The number in environment variable `name` (at least `minimum`), else `default`."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value >= minimum or value == float("inf"):
        raise ConfigError(f"{name}={raw!r}: must be a number, at least {minimum:g}")
    return value


def env_durations(name: str, default: dict[str, str]) -> dict[str, str]:
    """ISO-8601 durations per ticket type from environment variable `name`, over `default`.

    `PT5M` sets every type of `default`; `return=PT5M,general=PT1M` sets the types named.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return dict(default)
    values = dict(default)
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    for part in parts:
        key, _, duration = part.rpartition("=")
        key, duration = key.strip(), duration.strip().upper()
        if not DURATION.fullmatch(duration) or (not key and len(parts) > 1):
            raise ConfigError(
                f"{name}={raw!r}: '{part}' is not an ISO-8601 duration such as P1D or PT5M "
                "(one for every type, or type=duration pairs separated by commas)"
            )
        if key:
            values[key] = duration
        else:
            values = dict.fromkeys(values, duration)
    return values


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """The value of environment variable `name`, one of `choices`, else `default`."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in choices:
        raise ConfigError(f"{name}={raw!r}: must be one of {', '.join(choices)}")
    return raw


ADDRESS = re.compile(r"[^@\s<>,]+@[^@\s<>,]+")


def env_address(name: str, default: str) -> str:
    """The e-mail address in environment variable `name` (`a@b` or `Name <a@b>`), else `default`."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    match = re.fullmatch(r"(?:[^<>@]*<)?([^<>]+)>?", raw)
    if not match or not ADDRESS.fullmatch(match.group(1).strip()):
        raise ConfigError(f"{name}={raw!r}: must be an e-mail address (name@domain or 'Name <name@domain>')")
    return raw


def env_colour(name: str, default: str) -> str:
    """The #rrggbb colour in environment variable `name`, else `default`."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", raw):
        raise ConfigError(f"{name}={raw!r}: must be a colour written #rrggbb")
    return raw.lower()


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class Config:
    """Settings for a running server; every value can be overridden by the environment."""

    # "production" refuses to start without SECRET_KEY; anything else uses instance/secret_key.
    TICKETFLOW_ENV = os.environ.get("TICKETFLOW_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY") or None  # None: see secret_key() above
    # SQLite: how long a write waits for another's lock before giving up ("database is locked",
    # answered 503 with Retry-After: DATABASE_BUSY_RETRY_AFTER seconds).
    SQLITE_BUSY_TIMEOUT_MS = env_int("SQLITE_BUSY_TIMEOUT_MS", 10000)
    DATABASE_BUSY_RETRY_AFTER = env_int("DATABASE_BUSY_RETRY_AFTER", 5, 1)
    # Sign-in throttling (app/web/auth/throttle.py), in seconds: per (user name, address), free
    # failures then a delay doubling from FIRST to MAX; per address, a short brake after many.
    SIGNIN_WINDOW = env_int("SIGNIN_WINDOW", 3600, 1)
    SIGNIN_FREE_FAILURES = int(os.environ.get("SIGNIN_FREE_FAILURES", "5"))
    SIGNIN_FIRST_DELAY = env_int("SIGNIN_FIRST_DELAY", 30)
    SIGNIN_MAX_DELAY = env_int("SIGNIN_MAX_DELAY", 900)
    SIGNIN_ADDRESS_FREE_FAILURES = int(os.environ.get("SIGNIN_ADDRESS_FREE_FAILURES", "100"))
    SIGNIN_ADDRESS_DELAY = env_int("SIGNIN_ADDRESS_DELAY", 1)
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
    # ISO 4217 code of a new customer's amounts, and of any amount that names no currency.
    DEFAULT_CURRENCY = os.environ.get("DEFAULT_CURRENCY", "EUR").strip().upper() or "EUR"
    # The embedded worker (make run) fires timers and runs jobs inside the dev server.
    EMBEDDED_WORKER = os.environ.get("EMBEDDED_WORKER", "0") == "1"
    WORKER_SWEEP_SECONDS = env_float("WORKER_SWEEP_SECONDS", 2, 0.1)
    JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 60, 1)
    # Due timers the worker fires in one transaction at most, and for how long a batch may hold
    # its row locks (SQLite: the write lock) before it commits what it has (docs/timers.md).
    TIMER_BATCH = env_int("TIMER_BATCH", 50, 1)
    TIMER_BATCH_SECONDS = env_float("TIMER_BATCH_SECONDS", 0.05, 0)
    COMMAND_RETRIES = 5  # optimistic-lock attempts before a command answers 409
    # Bulk migration (app/engine/commands/migration_batches.py): tickets per batch at most, and
    # tickets the worker moves per chunk (the progress counts are updated after each chunk).
    MIGRATION_BATCH_MAX = env_int("MIGRATION_BATCH_MAX", 5000, 1)
    MIGRATION_CHUNK = env_int("MIGRATION_CHUNK", 50, 1)
    # Data sent without a form (a formless task or start) is merged into the process data as it
    # is: at most this many bytes as JSON (app/engine/forms.py check_formless_data).
    MAX_PROCESS_DATA_BYTES = int(os.environ.get("MAX_PROCESS_DATA_BYTES", str(64 * 1024)))
    # Bounds of what a diagram can make the engine do (docs/security.md "What diagrams are bounded
    # by"): engine steps one command may run without reaching a wait state (and the seconds
    # they may take together), and the instances
    # (loopCardinality or collection items) of one multi-instance task.
    MAX_ENGINE_STEPS = int(os.environ.get("MAX_ENGINE_STEPS", "10000"))
    MAX_ENGINE_SECONDS = float(os.environ.get("MAX_ENGINE_SECONDS", "0.5"))
    MAX_MULTI_INSTANCE = int(os.environ.get("MAX_MULTI_INSTANCE", "1000"))
    # Analysts' process tests (docs/process-tests.md): test steps one scenario may take (tasks,
    # jobs, timers, events) and the seconds a whole run may take; past either a scenario fails.
    PROCESS_TEST_STEPS = int(os.environ.get("PROCESS_TEST_STEPS", "500"))
    PROCESS_TEST_SECONDS = float(os.environ.get("PROCESS_TEST_SECONDS", "60"))
    # Task instructions are rendered as Markdown (app/web/markdown.py): at most this many characters
    # and seconds of parsing; past either the inbox shows them as plain text, the studio's preview
    # refuses them (422 naming `text`).
    INSTRUCTIONS_MAX_CHARS = int(os.environ.get("INSTRUCTIONS_MAX_CHARS", "20000"))
    INSTRUCTIONS_RENDER_SECONDS = float(os.environ.get("INSTRUCTIONS_RENDER_SECONDS", "0.2"))
    # JSON bodies (app/inputs.py): at most this many bytes (413) and levels of nesting (400).
    MAX_JSON_BYTES = int(os.environ.get("MAX_JSON_BYTES", str(1024 * 1024)))
    MAX_JSON_DEPTH = int(os.environ.get("MAX_JSON_DEPTH", "64"))
    ARGON2_TIME_COST = 3  # argon2-cffi's RFC 9106 low-memory profile
    ARGON2_MEMORY_KIB = 65536
    SESSION_COOKIE_HTTPONLY = True
    # Send the session cookie over HTTPS only: set SESSION_COOKIE_SECURE=1 behind TLS (off for
    # `make run` on plain http, where a Secure cookie would never come back).
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Links in e-mails (the satisfaction survey) point here; survey links live this many days.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    # The messages a customer may deliver to their own ticket through POST /api/v1/messages (the
    # catch events a diagram means for the customer: the shipped ones wait for `customer_reply`).
    # Every other message comes from staff or integrations; `feedback_received` comes from the
    # survey link. Comma-separated in the environment.
    CUSTOMER_MESSAGES = tuple(
        name.strip()
        for name in os.environ.get("CUSTOMER_MESSAGES", "customer_reply").split(",")
        if name.strip()
    )
    FEEDBACK_LINK_DAYS = env_int("FEEDBACK_LINK_DAYS", 14, 1)
    # A customer's portal visit counts as engagement for their onboarding (processes/onboarding.bpmn)
    # at most once per this many minutes.
    PORTAL_VISIT_GAP_MINUTES = env_int("PORTAL_VISIT_GAP_MINUTES", 60, 0)
    # A customer who writes on a ticket closed at most this many days ago reopens it (it goes back
    # to its team with a task); 0: never reopen (a "Read the customer's message" task instead). A
    # ticket type's diagram overrides it with the process property `reopen.days`.
    REOPEN_DAYS = env_int("REOPEN_DAYS", 14, 0)
    # How long after a ticket closes its survey goes out, per ticket type (ISO-8601 durations;
    # a type not listed waits P1D). The engine passes the value to the process as feedback_delay.
    # Environment: FEEDBACK_DELAY=PT5M (every type) or FEEDBACK_DELAY=return=PT5M,general=PT1M.
    FEEDBACK_DELAY = env_durations(
        "FEEDBACK_DELAY", {"return": "P1D", "credit": "P1D", "general": "P1D", "complaint": "P1D"}
    )
    # Then a reminder after FEEDBACK_REMINDER_DELAY without an answer (default P3D), and the survey
    # closes FEEDBACK_DEADLINE_DELAY after the reminder (default P7D); same forms as FEEDBACK_DELAY.
    # The engine passes them as feedback_reminder_delay and feedback_deadline_delay.
    FEEDBACK_REMINDER_DELAY = env_durations(
        "FEEDBACK_REMINDER_DELAY", {"return": "P3D", "credit": "P3D", "general": "P3D", "complaint": "P3D"}
    )
    FEEDBACK_DEADLINE_DELAY = env_durations(
        "FEEDBACK_DEADLINE_DELAY", {"return": "P7D", "credit": "P7D", "general": "P7D", "complaint": "P7D"}
    )
    # GET /metrics (Prometheus): open to anyone who reaches it unless a token is set; then a scraper
    # sends `Authorization: Bearer <METRICS_TOKEN>` and everyone else gets a 401.
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
    # How often the worker evaluates the alert rules (app/dashboard/alerts.py), in seconds; 0: never.
    ALERT_EVALUATE_SECONDS = env_float("ALERT_EVALUATE_SECONDS", 60)
    # Pages show times in the viewer's zone (their `timezone` setting), else in this one (IANA name).
    DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "Europe/Berlin")
    # The inbox refreshes its counts and "new" badge this often, in seconds (htmx polling).
    INBOX_REFRESH_SECONDS = env_int("INBOX_REFRESH_SECONDS", 30, 1)
    # E-mail out (app/mail, docs/operations.md "Mail"): the worker sends the outbox over SMTP.
    # No MAIL_HOST and no catcher: nothing is sent, the rows wait in the outbox.
    MAIL_HOST = os.environ.get("MAIL_HOST", "").strip()
    MAIL_PORT = env_int("MAIL_PORT", 25, 1)
    MAIL_SECURITY = env_choice("MAIL_SECURITY", "none", ("none", "starttls", "tls"))
    MAIL_USER = os.environ.get("MAIL_USER") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_FROM = env_address("MAIL_FROM", "support@ticketflow.example")
    # Replies route back to the ticket: support@x becomes support+<ticket id>@x (empty: MAIL_FROM).
    MAIL_REPLY_TO = env_address("MAIL_REPLY_TO", "")
    MAIL_TIMEOUT = env_int("MAIL_TIMEOUT", 30, 1)  # seconds per SMTP connection; below MAIL_LEASE_SECONDS
    MAIL_LEASE_SECONDS = env_int("MAIL_LEASE_SECONDS", 300, 1)
    MAIL_MAX_ATTEMPTS = env_int("MAIL_MAX_ATTEMPTS", 6, 1)
    MAIL_RETRY_SECONDS = env_int("MAIL_RETRY_SECONDS", 60, 1)  # first retry; doubles, at most MAIL_RETRY_MAX
    MAIL_RETRY_MAX_SECONDS = env_int("MAIL_RETRY_MAX_SECONDS", 3600, 1)
    # Development: a local SMTP catcher (aiosmtpd) the embedded worker sends to; /dev/mail shows it.
    MAIL_CATCHER = os.environ.get("MAIL_CATCHER", "1" if TICKETFLOW_ENV == "development" else "0") == "1"
    MAIL_CATCHER_PORT = env_int("MAIL_CATCHER_PORT", 1025, 0)
    MAIL_CATCHER_DIR = os.environ.get("MAIL_CATCHER_DIR") or None  # None: instance/mail
    # E-mail in (app/mail/gateway.py, docs/mail.md): `flask mail-gateway` takes the replies. It accepts
    # mail for MAIL_REPLY_TO (else MAIL_FROM), its plus-addresses, and MAIL_GATEWAY_ADDRESSES.
    MAIL_GATEWAY_HOST = os.environ.get("MAIL_GATEWAY_HOST", "127.0.0.1").strip() or "127.0.0.1"
    MAIL_GATEWAY_PORT = env_int("MAIL_GATEWAY_PORT", 2525, 0)
    MAIL_GATEWAY_ADDRESSES = tuple(
        a.strip().lower() for a in os.environ.get("MAIL_GATEWAY_ADDRESSES", "").split(",") if a.strip()
    )
    MAIL_GATEWAY_MAX_BYTES = env_int("MAIL_GATEWAY_MAX_BYTES", 25 * 1024 * 1024, 1024)  # larger: 552
    # A new mail from an address no customer has: `create` a customer profile and open a ticket,
    # or `hold` it for an admin at /admin/held-mail.
    MAIL_UNKNOWN_SENDERS = env_choice("MAIL_UNKNOWN_SENDERS", "hold", ("create", "hold"))
    # The type of a ticket opened by e-mail when no rule of the `mail_type` decision (DMN) matches.
    MAIL_DEFAULT_TYPE = os.environ.get("MAIL_DEFAULT_TYPE", "general").strip() or "general"
    # Development: the worker (`make run`'s embedded one) starts the gateway too, on MAIL_GATEWAY_PORT.
    MAIL_GATEWAY_EMBEDDED = (
        os.environ.get("MAIL_GATEWAY_EMBEDDED", "1" if TICKETFLOW_ENV == "development" else "0") == "1"
    )
    COMPANY_NAME = os.environ.get("COMPANY_NAME", "Ticketflow").strip() or "Ticketflow"
    COMPANY_COLOUR = env_colour("COMPANY_COLOUR", "#2b6cb0")
    # Webhooks (app/webhooks, docs/webhooks.md): the worker POSTs each delivery, signed, with retries.
    # How often the worker looks for due deliveries and new SLA breaches, in seconds; 0: never (the
    # test config: tests send by hand).
    WEBHOOK_SWEEP_SECONDS = env_float("WEBHOOK_SWEEP_SECONDS", 2)
    WEBHOOK_TIMEOUT = env_float("WEBHOOK_TIMEOUT", 10, 0.1)  # seconds to connect, and for the whole answer
    WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8, 1)
    WEBHOOK_RETRY_SECONDS = env_int("WEBHOOK_RETRY_SECONDS", 30, 1)  # first retry; doubles, at most MAX
    WEBHOOK_RETRY_MAX_SECONDS = env_int("WEBHOOK_RETRY_MAX_SECONDS", 3600, 1)
    WEBHOOK_LEASE_SECONDS = env_int("WEBHOOK_LEASE_SECONDS", 300, 1)  # above a batch's timeouts
    WEBHOOK_RESPONSE_MAX_BYTES = env_int("WEBHOOK_RESPONSE_MAX_BYTES", 4096, 0)  # read, kept in errors
    # SSRF: private, loopback, link-local, multicast and reserved targets are refused unless allowed
    # all at once (WEBHOOK_ALLOW_PRIVATE=1) or one by one (host names, addresses or networks, e.g.
    # WEBHOOK_ALLOWED_HOSTS=hooks.internal,10.1.2.0/24).
    # The engine's copy of the active subscriptions lives this long in each process (0: read every
    # command); a process sees another's change to a subscription within this time, its own at once.
    WEBHOOK_SUBSCRIPTION_CACHE_SECONDS = env_float("WEBHOOK_SUBSCRIPTION_CACHE_SECONDS", 2)
    WEBHOOK_ALLOW_PRIVATE = os.environ.get("WEBHOOK_ALLOW_PRIVATE", "0") == "1"
    WEBHOOK_ALLOWED_HOSTS = os.environ.get("WEBHOOK_ALLOWED_HOSTS", "")
    # The payment provider (app/handlers/provider.py): refunds, credit notes and credit balances
    # are paid by POST {PAYMENT_PROVIDER_URL}/refunds with the job's idempotency key; empty: the
    # provider is embedded (the ledger row is the payment, as in the demo).
    PAYMENT_PROVIDER_URL = os.environ.get("PAYMENT_PROVIDER_URL", "").strip() or None
    PAYMENT_PROVIDER_TIMEOUT = env_float("PAYMENT_PROVIDER_TIMEOUT", 10, 0.1)  # seconds per call
    # Logs (app/logs.py): `json` (one object a line: requests, engine commands) or `text`; text in
    # development, json otherwise. LOG_LEVEL (default INFO) is read by app/logs.py itself.
    LOG_FORMAT = env_choice(
        "LOG_FORMAT", "text" if TICKETFLOW_ENV == "development" else "json", ("json", "text")
    )


class TestConfig(Config):
    """Settings for the test suite: a database given by the fixture, no embedded worker."""

    TESTING = True
    TICKETFLOW_ENV = "test"
    SECRET_KEY = "test"
    EMBEDDED_WORKER = False
    ALERT_EVALUATE_SECONDS = 0  # tests call evaluate_alerts() themselves
    WEBHOOK_SWEEP_SECONDS = 0  # tests call deliver_due_webhooks() themselves
    MAIL_HOST = ""  # tests start their own SMTP server and set MAIL_HOST/MAIL_PORT
    MAIL_CATCHER = False
    MAIL_GATEWAY_EMBEDDED = False  # tests start their own gateway
    LOG_FORMAT = "text"
    ARGON2_TIME_COST = 1  # fast hashes in tests; production keeps the strong defaults
    ARGON2_MEMORY_KIB = 8192
