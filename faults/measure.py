"""What the scale run measures besides the database: CPU seconds of process trees from /proc,
the load average, and percentiles."""

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    kids = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            kids += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return kids


def cpu_seconds(pid: int, tree: bool = True) -> float:
    """User + system CPU seconds of `pid` (and, with `tree`, of its living descendants); each
    process's cutime/cstime count its children that have ended (a gunicorn worker recycled, a
    PostgreSQL backend whose connection closed), so nothing is counted twice or lost."""
    total, pids = 0, [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime (fields 14-17)
        if tree:
            pids += _children(current)
    return total / TICK


def own_cpu_seconds() -> float:
    """This process (the clients' threads and the poller)."""
    times = os.times()
    return times.user + times.system


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def postmaster_pid(data_dir: str) -> int:
    return int(Path(data_dir, "postmaster.pid").read_text().split()[0])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(values: list[float], q: float) -> float:
    return round(1000 * percentile(values, q), 1)


class CpuWatch:
    """CPU seconds per named process between `start` and `stop`: {name: (pid, tree)}."""

    def __init__(self, processes: dict[str, tuple[int, bool]]):
        self.processes = processes
        self.before: dict[str, float] = {}

    def read(self) -> dict[str, float]:
        values = {name: cpu_seconds(pid, tree) for name, (pid, tree) in self.processes.items()}
        values["clients"] = own_cpu_seconds()
        return values

    def start(self) -> None:
        self.before = self.read()

    def stop(self) -> dict[str, float]:
        after = self.read()
        return {name: round(after[name] - self.before.get(name, 0.0), 1) for name in after}
