"""gunicorn's settings for Ticketflow, read from the working directory: `gunicorn wsgi:app`.

- Every answer names the server `Ticketflow`, without a version, as the app does
  (app/security_headers.py): gunicorn drops an app's `Server` header as hop-by-hop and writes its
  own line from `gunicorn.http.wsgi.SERVER`, so that is what is set here.
- No control socket: several servers on one machine would share its default path.
- `TICKETFLOW_WORKER=1` (what `make run` sets) starts one `flask --app wsgi worker` beside the
  web workers, in its own process, and stops it with them (Ctrl-C stops both). Production runs
  its workers on their own instead (README, "Production").

Command-line options (`-w`, `-b`) override what is set here.
"""

import os
import signal
import subprocess
import sys

from gunicorn.http import wsgi as _gunicorn_wsgi

wsgi_app = "wsgi:app"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))


_gunicorn_wsgi.SERVER = "Ticketflow"  # read by every new Response (was "gunicorn")
control_socket_disable = True

_worker: subprocess.Popen | None = None


def when_ready(server):
    """Start the job-and-timer worker process once the web workers listen (TICKETFLOW_WORKER=1)."""
    global _worker
    if os.environ.get("TICKETFLOW_WORKER") != "1":
        return
    env = {**os.environ, "EMBEDDED_WORKER": "0"}
    _worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], env=env)
    server.log.info("worker process started (pid %s)", _worker.pid)


def on_exit(server):
    """Stop the worker process with the server."""
    if _worker is None or _worker.poll() is not None:
        return
    _worker.send_signal(signal.SIGTERM)
    try:
        _worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        _worker.kill()
        _worker.wait()
