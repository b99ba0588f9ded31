"""gunicorn settings for the production layout (docs/operations.md "Production layout").

    gunicorn -c deploy/gunicorn.conf.py wsgi:app

Everything can be overridden by the environment: PORT / BIND, WEB_CONCURRENCY (gunicorn reads
it itself), GUNICORN_TIMEOUT, GUNICORN_GRACEFUL_TIMEOUT.
"""

import os

from gunicorn.http import wsgi as _gunicorn_wsgi

_gunicorn_wsgi.SERVER = "Ticketflow"  # every answer says `Server: Ticketflow`, no version (as make run's)
control_socket_disable = True  # several servers on one machine would share its default path

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))  # about one per core: requests are CPU-bound
worker_class = "sync"
# A request running longer than this is killed (its transaction rolls back, nothing half-saved).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# SIGTERM (systemd stop, a deploy): stop accepting, let running requests finish for this long.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
max_requests = 10000  # recycle workers now and then; jitter keeps them from restarting together
max_requests_jitter = 1000
accesslog = None  # Ticketflow logs one line per request itself (LOG_FORMAT=json)
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# gunicorn's own lines (booting, a worker that died) in the app's format: JSON unless LOG_FORMAT=text.
_development = os.environ.get("TICKETFLOW_ENV", "development") == "development"
if os.environ.get("LOG_FORMAT", "text" if _development else "json").strip().lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            "gunicorn.error": {
                "level": "INFO",
                "handlers": ["json"],
                "propagate": False,
                "qualname": "gunicorn.error",
            },
        },
        "handlers": {
            "json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "formatters": {"json": {"()": "app.logs.JsonFormatter"}},
    }
