"""One POST to a checked target: connect to the checked address, name the host, follow no redirect.

The socket goes to `Target.address` (resolved and checked by app/webhooks/targets.py), while the
Host header and, for https, the TLS server name and certificate check use the URL's host, so a
DNS answer that changes after the check cannot redirect the request. The whole exchange is bounded
by `timeout` seconds (connect, send, every read) and at most `max_bytes` of the answer are read.
"""

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from app.webhooks.targets import Target

USER_AGENT = "Ticketflow-Webhooks/1"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes  # at most max_bytes
    location: str | None  # a redirect's target, reported, never followed


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to a fixed address; `host` is only named (Host header)."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.held = self.sock  # http.client drops `sock` once the answer owns it; timeouts still apply


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a fixed address; the certificate must match `host`, which is also the SNI name."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self.address = target.address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.held = self._context.wrap_socket(sock, server_hostname=self.host)


def post(target: Target, body: bytes, headers: dict, timeout: float, max_bytes: int) -> Answer:
    """POST `body` to `target` and return its answer; raises OSError/HTTPException on network failure."""
    deadline = time.monotonic() + timeout
    connection = (_PinnedHTTPS if target.scheme == "https" else _PinnedHTTP)(target, timeout)
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        )
        connection.held.settimeout(_left(deadline))
        response = connection.getresponse()
        chunks, size = [], 0
        while size < max_bytes:
            connection.held.settimeout(_left(deadline))
            chunk = response.read1(min(4096, max_bytes - size)) if max_bytes else b""
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return Answer(response.status, b"".join(chunks), response.getheader("Location"))
    finally:
        connection.close()


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the receiver took longer than WEBHOOK_TIMEOUT")
    return left
