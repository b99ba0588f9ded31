"""A stub payment provider on loopback that keeps its own ledger (the fault suite's witness).

`POST /refunds` with `Idempotency-Key` pays a key once (a repeated key gets the payment made
for it); `GET /ledger` lists what it paid and how often it was called; `POST /mode` sets its
faults: `{"mode": "ok" | "timeout" | "error" | "down", "rate": 0.3, "delay": 2.0}`:

- `timeout`: for `rate` of the calls, pay, then answer only after `delay` seconds (the caller has
  given up by then: a payment that succeeded but reported a timeout);
- `error`: for `rate` of the calls, pay, then answer 500;
- `flaky`: for `rate` of the calls, one of the two above;
- `down`: answer 503 to every call and pay nothing.
"""

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Provider:
    def __init__(self, seed: int = 16):
        self.lock = threading.Lock()
        self.payments: dict[str, dict] = {}  # idempotency key -> payment
        self.calls = 0
        self.applied = 0  # payments made (a repeated key makes none)
        self.mode, self.rate, self.delay = "ok", 0.0, 2.0
        self.random = random.Random(seed)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "Provider":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def set_mode(self, mode: str, rate: float = 1.0, delay: float = 2.0) -> None:
        with self.lock:
            self.mode, self.rate, self.delay = mode, rate, delay

    def pay(self, key: str, body: dict) -> tuple[int, dict, float]:
        """(status, answer, seconds to wait before answering) for one call."""
        with self.lock:
            self.calls += 1
            if self.mode == "down":
                return 503, {"error": "provider unavailable"}, 0.0
            payment = self.payments.get(key)
            if payment is None:
                self.applied += 1
                payment = {"id": f"pay_{self.applied}", "key": key, **body}
                self.payments[key] = payment
            faulty = self.mode in ("timeout", "error", "flaky") and self.random.random() < self.rate
            mode = self.mode if self.mode != "flaky" else self.random.choice(("timeout", "error"))
            if faulty and mode == "timeout":
                return 200, payment, self.delay
            if faulty:
                return 500, {"error": "internal error after the payment"}, 0.0
            return 200, payment, 0.0

    def ledger(self) -> dict:
        with self.lock:
            return {"payments": list(self.payments.values()), "calls": self.calls, "applied": self.applied}

    def duplicates(self) -> list[tuple]:
        """(ticket id, kind) paid under more than one key: a refund paid twice."""
        seen: dict[tuple, int] = {}
        for payment in self.ledger()["payments"]:
            pair = (payment.get("ticket_id"), payment.get("kind"))
            seen[pair] = seen.get(pair, 0) + 1
        return [pair for pair, count in seen.items() if count > 1]


def _handler_for(provider: Provider):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args):  # quiet
            pass

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the caller gave up (its timeout)
                pass

        def do_GET(self):
            if self.path == "/ledger":
                return self._answer(200, provider.ledger())
            return self._answer(404, {"error": "not found"})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return self._answer(400, {"error": "body is not JSON"})
            if self.path == "/mode":
                provider.set_mode(body.get("mode", "ok"), body.get("rate", 1.0), body.get("delay", 2.0))
                return self._answer(200, {"mode": provider.mode})
            if self.path != "/refunds":
                return self._answer(404, {"error": "not found"})
            key = self.headers.get("Idempotency-Key")
            if not key:
                return self._answer(400, {"error": "Idempotency-Key is required"})
            status, answer, wait = provider.pay(key, body)
            if wait:
                time.sleep(wait)
            return self._answer(status, answer)

    return Handler
