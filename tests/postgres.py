"""A throwaway PostgreSQL cluster for the test session (initdb + pg_ctl as the postgres user)."""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"PostgreSQL binary '{name}' not found; run `make postgres-binaries`")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TempPostgres:
    """Start a cluster in a temporary folder; `url` is a SQLAlchemy URL for database `ticketflow`."""

    def __init__(self, durable: bool = False):
        # The suite runs without fsync (fast, throwaway); the fault suite keeps commits durable.
        self.fsync = "on" if durable else "off"
        self.dir = tempfile.mkdtemp(prefix="ticketflow-pg-")
        self.port = _free_port()
        self.run_as = None
        if os.geteuid() == 0:  # initdb refuses root
            self.run_as = "postgres"
            ids = pwd.getpwnam("postgres")
            os.chown(self.dir, ids.pw_uid, ids.pw_gid)
        self.data = os.path.join(self.dir, "data")

    def _run(self, *args: str) -> None:
        command = list(args)
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> str:
        self._run(_bin("initdb"), "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        self.start_server()
        self._run(_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "ticketflow")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/ticketflow"

    def start_server(self) -> None:
        """Start the cluster's server (again, after `stop_server`: the fault suite restarts it)."""
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync={self.fsync} "
            f"-c synchronous_commit={self.fsync} -c full_page_writes={self.fsync} -c max_connections=100"
        )
        self._run(
            _bin("pg_ctl"), "-D", self.data, "-o", options, "-w", "-l", os.path.join(self.dir, "log"), "start"
        )

    def stop_server(self, mode: str = "fast") -> None:
        """Stop the server and keep the cluster (`fast`: connections are cut, commits kept)."""
        self._run(_bin("pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop")

    def stop(self) -> None:
        try:
            self._run(_bin("pg_ctl"), "-D", self.data, "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
