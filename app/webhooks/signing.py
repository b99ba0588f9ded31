"""Signatures of deliveries: HMAC-SHA256 over "<timestamp>.<body>" with the subscription's secret.

The receiver recomputes it from the `X-Ticketflow-Timestamp` header and the raw body, compares
in constant time, and refuses a timestamp too far from its clock (a replayed delivery);
docs/webhooks.md shows it.
"""

import hashlib
import hmac
import secrets

PREFIX = "whsec_"
TOLERANCE_SECONDS = 300  # what docs/webhooks.md suggests receivers accept


def new_secret() -> str:
    """A fresh signing secret (256 random bits)."""
    return PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The `X-Ticketflow-Signature` value: `sha256=<hex>`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, header: str, timestamp: str, body: bytes, now: float, tolerance=TOLERANCE_SECONDS):
    """True if `header` signs `timestamp.body` with `secret` and the timestamp is recent (a receiver's check)."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - sent) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header or "")
