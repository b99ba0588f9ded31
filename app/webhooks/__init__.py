"""Webhooks: events of engine commands POSTed, signed, to the URLs admins subscribe.

- `enqueue_events`: the engine writes deliveries with the command (app/webhooks/enqueue.py);
- `deliver_due_webhooks`, `enqueue_sla_breaches`: the worker's steps (delivery.py, enqueue.py);
- `check_url`, `TargetRefused`: where deliveries may go (SSRF rules, targets.py);
- `new_secret`, `signature`, `verify`: the signing scheme (signing.py).

docs/webhooks.md is the integrators' guide.
"""

from app.webhooks.delivery import body_of, claim_deliveries, deliver_due_webhooks
from app.webhooks.enqueue import enqueue_events, enqueue_sla_breaches, subscriptions_changed
from app.webhooks.signing import new_secret, signature, verify
from app.webhooks.targets import TargetRefused, check_url

__all__ = [
    "TargetRefused",
    "body_of",
    "check_url",
    "claim_deliveries",
    "deliver_due_webhooks",
    "enqueue_events",
    "enqueue_sla_breaches",
    "new_secret",
    "signature",
    "subscriptions_changed",
    "verify",
]
