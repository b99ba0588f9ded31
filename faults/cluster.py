"""Real processes for the fault suite: gunicorn web servers and `flask worker`s on loopback,
configured by environment as docs/operations.md describes, each logging to its own file."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "fault-suite-secret-key-" + "f" * 24


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """One started process (a gunicorn master with its workers, or a worker) and its log file."""

    def __init__(self, name: str, command: list[str], env: dict, log: Path):
        self.name, self.log = name, log
        self.out = open(log, "a")  # noqa: SIM115 (closed in wait)
        self.popen = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill9(self) -> None:
        """SIGKILL to the process group (a gunicorn master and its workers), as a crash."""
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.wait(10)

    def term(self, timeout: float = 30) -> int | None:
        """SIGTERM, then wait for a graceful exit; SIGKILL after `timeout`."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            return None

    def wait(self, timeout: float) -> int:
        code = self.popen.wait(timeout)
        self.out.close()
        return code

    def rss_mb(self) -> float:
        """Resident memory of the process and its children (a gunicorn master's workers), in MiB."""
        total, pids = 0, [self.pid]
        while pids:
            pid = pids.pop()
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                total += int(
                    next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
                )
                for task in Path(f"/proc/{pid}/task").iterdir():
                    pids += [int(c) for c in (task / "children").read_text().split()]
            except (OSError, StopIteration, ValueError):
                continue
        return round(total / 1024, 1)

    def mentions(self, text: str) -> int:
        return self.log.read_text(errors="replace").count(text)


class Cluster:
    """Web servers and workers against one database and one payment provider."""

    def __init__(
        self, workdir: Path, database_url: str, provider_url: str | None, lease: int = 3, extra_env=None
    ):
        self.workdir, self.database_url, self.provider_url, self.lease = (
            workdir,
            database_url,
            provider_url,
            lease,
        )
        self.extra_env = dict(extra_env or {})  # for every process (the scale run's short delays)
        self.procs: list[Proc] = []
        self.started = 0

    def env(self, fault: str | None = None, **extra) -> dict:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "TICKETFLOW_ENV": "production",
            "SECRET_KEY": SECRET,
            "LOG_FORMAT": "json",
            "MAIL_CATCHER": "0",
            "ALERT_EVALUATE_SECONDS": "0",
            "WORKER_SWEEP_SECONDS": "0.2",
            "JOB_LEASE_SECONDS": str(self.lease),
            "PAYMENT_PROVIDER_TIMEOUT": "1",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("TICKETFLOW_FAULT", None)
        if self.provider_url:
            env["PAYMENT_PROVIDER_URL"] = self.provider_url
        if fault:
            env["TICKETFLOW_FAULT"] = fault
        env.update(self.extra_env)
        env.update(extra)
        return env

    def _start(self, name: str, command: list[str], env: dict) -> Proc:
        self.started += 1
        proc = Proc(name, command, env, self.workdir / f"{name}-{self.started}.log")
        self.procs.append(proc)
        return proc

    def worker(self, fault: str | None = None) -> Proc:
        return self._start(
            "worker", [sys.executable, "-m", "flask", "--app", "wsgi", "worker"], self.env(fault)
        )

    def web(self, port: int, workers: int = 2, fault: str | None = None, wait: bool = True) -> Proc:
        command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"]
        env = self.env(
            fault, BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY=str(workers), GUNICORN_GRACEFUL_TIMEOUT="10"
        )
        proc = self._start("web", command, env)  # the production layout's settings
        if wait:
            wait_ready(f"http://127.0.0.1:{port}", proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.alive():
                proc.term(15)


def wait_ready(base: str, proc: Proc | None = None, timeout: float = 60) -> float:
    """Poll `/readyz` until it answers 200; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited before it was ready; see {proc.log}")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{base} not ready within {timeout} s")


def close_run(workdir: Path, keep: bool, json_path: str | None, results) -> None:
    """End of a run: keep the work folder (the processes' logs) when asked or when it failed, else
    remove it; write the figures as JSON when asked."""
    if keep:
        print(f"process logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=1, default=str) + "\n")
