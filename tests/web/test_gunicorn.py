"""`make run` and production serve with gunicorn and gunicorn.conf.py: the server names itself
`Ticketflow` without a version, and the worker process of `make run` stops with the server."""

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def serve(app):
    """serve(**env): gunicorn with the repository's config on the test database; yields (port, process)."""
    started = []

    def start(**env):
        port = _free_port()
        environment = {
            **os.environ,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "EMBEDDED_WORKER": "0",
            "MAIL_CATCHER": "0",
            "LOG_LEVEL": "INFO",
            **env,
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "gunicorn.conf.py",
                "-w",
                "1",
                "-b",
                f"127.0.0.1:{port}",
            ],
            cwd=ROOT,
            env=environment,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(server)
        lines = []
        for line in server.stderr:  # the master logs "Listening at" once its socket accepts
            lines.append(line)
            if "Booting worker" in line:
                break
        return port, server, lines

    yield start
    for server in started:
        if server.poll() is None:
            server.kill()
        server.wait(timeout=30)


def test_gunicorn_names_the_server_ticketflow_once_without_a_version(serve):
    port, server, _ = serve()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=60) as answer:
        assert answer.status == 200
        assert answer.headers.get_all("Server") == ["Ticketflow"]


def test_the_worker_process_of_make_run_starts_and_stops_with_the_server(serve):
    port, server, lines = serve(TICKETFLOW_WORKER="1")
    [pid] = [
        int(m.group(1)) for line in lines if (m := re.search(r"worker process started \(pid (\d+)\)", line))
    ]
    os.kill(pid, 0)  # it runs

    server.send_signal(signal.SIGINT)  # Ctrl-C
    assert server.wait(timeout=60) == 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
