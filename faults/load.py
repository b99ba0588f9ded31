"""The suite's clients over HTTP: open tickets, complete tasks; only a 2xx is an acknowledgement."""

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor


class Api:
    def __init__(self, base: str, token: str):
        self.base, self.token = base, token

    def post(self, path: str, body: dict, timeout: float = 15) -> tuple[int, dict | str]:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as error:
            raw = error.read().decode("utf-8", "replace")
            try:
                return error.code, json.loads(raw)
            except ValueError:
                return error.code, raw
        except (OSError, http.client.HTTPException) as error:  # refused, reset, cut short: no answer
            return 0, f"{type(error).__name__}: {error}"

    def open_ticket(self, customer_id: int, amount: float, delay: str = "PT2S", kind: str = "faultflow"):
        data = {"amount": amount, "delay": delay}
        return self.post(
            "/api/v1/tickets", {"type": kind, "customer_id": customer_id, "subject": "F", "data": data}
        )

    def complete(self, task_id: str):
        return self.post(f"/api/v1/tasks/{task_id}/complete", {"data": {}})


class Tally:
    """What the clients saw: acknowledged ids, statuses, latencies, bodies of 5xx answers."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked: list = []
        self.statuses: Counter = Counter()
        self.latencies: list[float] = []
        self.unavailable_bodies: Counter = Counter()

    def record(self, status: int, body, seconds: float, acked_value=None) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.latencies.append(seconds)
            if 200 <= status < 300 and acked_value is not None:
                self.acked.append(acked_value)
            if status >= 500:
                text = body.get("error") if isinstance(body, dict) else str(body)[:80]
                self.unavailable_bodies[f"{status}: {text}"] += 1

    def p99_ms(self) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def open_tickets(
    api: Api, customer_id: int, count: int, threads: int = 4, tally: Tally | None = None, **kw
) -> Tally:
    tally = tally or Tally()

    def one(i: int) -> None:
        started = time.monotonic()
        status, body = api.open_ticket(customer_id, round(10 + i % 90 + 0.5, 2), **kw)
        tally.record(
            status, body, time.monotonic() - started, body.get("id") if isinstance(body, dict) else None
        )

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(count)))
    return tally


def complete_tasks(api: Api, task_ids: list[str], threads: int = 4, tally: Tally | None = None) -> Tally:
    tally = tally or Tally()

    def one(task_id: str) -> None:
        started = time.monotonic()
        status, body = api.complete(task_id)
        tally.record(status, body, time.monotonic() - started, task_id)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, task_ids))
    return tally


class Steady:
    """Open tickets at a steady pace from `threads` threads until stopped (load during a fault)."""

    def __init__(self, api: Api, customer_id: int, threads: int = 4, pause: float = 0.02, **kw):
        self.api, self.customer_id, self.kw, self.pause = api, customer_id, kw, pause
        self.tally = Tally()
        self.stop = threading.Event()
        self.timeline: list[tuple[float, int]] = []  # (monotonic time, status)
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)]

    def start(self) -> "Steady":
        for thread in self.threads:
            thread.start()
        return self

    def _run(self, n: int) -> None:
        i = n
        while not self.stop.is_set():
            started = time.monotonic()
            status, body = self.api.open_ticket(self.customer_id, 10 + i % 90, **self.kw)
            ack = body.get("id") if isinstance(body, dict) else None
            self.tally.record(status, body, time.monotonic() - started, ack)
            with self.tally.lock:
                self.timeline.append((time.monotonic(), status))
            i += len(self.threads)
            time.sleep(self.pause)

    def finish(self) -> Tally:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)
        return self.tally
