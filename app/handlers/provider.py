"""The payment provider, over HTTP, when `PAYMENT_PROVIDER_URL` is set (docs/operations.md).

`POST {PAYMENT_PROVIDER_URL}/refunds` with a JSON body (kind, amount, currency, ticket_id,
customer_id) and the job's idempotency key in `Idempotency-Key`, as real providers take it: the
provider pays a key once and answers a repeated key with the payment it made, so a job retried
after a timeout, a lost answer or a worker that died after the call pays once. Unset (the demo,
`make run`), the provider is embedded: the ledger row alone is the payment.

Answers: 2xx with `{"id": ...}` is paid; 4xx but 408/409/429 is a refusal (HandlerRefused: an
incident at once, nothing retried); anything else (5xx, 408, 409, 429, a timeout, a refused or
dropped connection) is a failure retried by the job's retry policy (HandlerError).
"""

import json
import urllib.error
import urllib.request
from decimal import Decimal

from flask import current_app

from app.handlers.registry import HandlerError, HandlerRefused

RETRYABLE_4XX = (408, 409, 429)


def provider_url() -> str | None:
    return (current_app.config.get("PAYMENT_PROVIDER_URL") or "").rstrip("/") or None


def pay(kind: str, amount: Decimal, currency: str, ticket_id: int, customer_id: int, key: str) -> str:
    """Have the provider pay `amount` once for `key`; returns the provider's payment id."""
    body = json.dumps(
        {
            "kind": kind,
            "amount": str(amount),
            "currency": currency,
            "ticket_id": ticket_id,
            "customer_id": customer_id,
        }
    ).encode()
    request = urllib.request.Request(
        f"{provider_url()}/refunds",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": key},
    )
    timeout = current_app.config["PAYMENT_PROVIDER_TIMEOUT"]
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (configured URL)
            payment = json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        detail = error.read()[:300].decode("utf-8", "replace")
        if 400 <= error.code < 500 and error.code not in RETRYABLE_4XX:
            raise HandlerRefused(f"the payment provider refused the {kind}: {error.code} {detail}") from None
        raise HandlerError(f"the payment provider answered {error.code}: {detail}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise HandlerError(f"the payment provider could not be reached: {reason}") from None
    except ValueError:
        raise HandlerError("the payment provider answered something that is not JSON") from None
    if not isinstance(payment, dict) or not payment.get("id"):
        raise HandlerError("the payment provider's answer has no payment id")
    return str(payment["id"])
