"""What a customer may see of a ticket: status labels apart from internal outcomes, no internal notes.

Statuses and resolutions are set by the processes (`ticket.set_status`); some resolutions are
internal judgements (a complaint's "satisfactory" outcome) that the customer must never read. The
portal, the customer's API view and the e-mails to the customer go through these functions; staff
pages keep showing the internal codes.
"""

import re

STATUS_LABELS = {
    "new": "Received",
    "in_progress": "In progress",
    "awaiting_customer": "Waiting for your answer",
    "missing_data": "Waiting for missing details",
    "awaiting_return": "Waiting for your parcel",
    "awaiting_payment": "Waiting for your payment",
    "dispatched": "On its way",
    "accepted": "Accepted",
    "rejected": "Not accepted",
    "approved": "Approved",
    "denied": "Not granted",
    "escalated": "In progress",
    "closed": "Closed",
    "resolved": "Resolved",
    "no_response": "Closed (no response)",
    "cancelled": "Cancelled",
}

# The resolutions a customer may read, in their words; any other (an internal outcome) is not shown.
CUSTOMER_RESOLUTIONS = {
    "refunded": "Refunded",
    "credit_note": "Credit note issued",
    "approved": "Approved",
    "denied": "Not granted",
    "rejected": "Not accepted",
    "no_response": "No response",
    "answered": "Answered",
    "delivered": "Delivered",
    "order_cancelled": "Order cancelled",
}

# History kinds about internal work a customer's view of the history leaves out.
STAFF_ONLY_KINDS = frozenset(
    {"note_added", "customer_message_read", "instance_migrated", "migration_rolled_back"}
)

# Task form fields that hold agents' internal notes (the shipped forms say "Not shown to the
# customer"): `notes`, `<anything>_notes` and a complaint's `findings`. Staff read them on the
# timeline; the customer never does.
INTERNAL_NOTE_SUFFIX = "notes"
INTERNAL_NOTE_FIELDS = frozenset({"notes", "findings"})


def status_label(status: str | None) -> str:
    """The customer-facing name of a status ("Waiting for your answer"); never an internal code."""
    if not status:
        return ""
    return STATUS_LABELS.get(status, "In progress")


def resolution_label(resolution: str | None) -> str:
    """The customer-facing name of a resolution, or "" when it is internal (or unknown)."""
    return CUSTOMER_RESOLUTIONS.get(resolution or "", "")


def customer_status(status: str | None, resolution: str | None) -> str:
    """One label for the customer: "Closed · Refunded", "In progress"; internal outcomes left out."""
    label, detail = status_label(status), resolution_label(resolution)
    return f"{label} · {detail}" if detail and detail != label else label


def internal_notes(data) -> list[tuple[str, str]]:
    """(field, text) of the internal notes in a completed task's data (`notes`, `receipt_notes`, ...)."""
    if not isinstance(data, dict):
        return []
    return [
        (name, value.strip())
        for name, value in data.items()
        if isinstance(name, str)
        and (name in INTERNAL_NOTE_FIELDS or name.endswith("_" + INTERNAL_NOTE_SUFFIX))
        and isinstance(value, str)
        and value.strip()
    ]


_GREETING_WORDS = r"(dear|hello|hi|hey|good (morning|afternoon|evening))\b"
_GREETING = re.compile(rf"(?i)^\s*{_GREETING_WORDS}[^\n.?,!:]{{0,60}}[,!:]?\s*$")
_GREETING_PREFIX = re.compile(rf"(?i)^\s*{_GREETING_WORDS}[^\n.?,!:]{{0,40}},\s+(?=\S)")
_SIGN_OFF = re.compile(
    r"(?i)^\s*(kind regards|best regards|warm regards|regards|best wishes|best|thanks|thank you|"
    r"many thanks|sincerely|yours sincerely|yours|cheers)[,!.]?\s*$"
)
_NAME_LINES = 2  # lines of a name (and title) under a sign-off


def without_doubled_greeting(body: str) -> str:
    """A letter to the customer without the greeting and sign-off an agent typed inside the template's.

    Templates wrap what the agent wrote in "Dear Jane Doe,\\n\\n…\\n\\nKind regards,\\nCustomer
    service"; an agent who typed "Dear Jane, …" or "Best, Alice" anyway would greet and sign twice.
    The template's own greeting (first line) and sign-off (last lines) stay.
    """
    lines = body.split("\n")
    if lines and _GREETING.match(lines[0]):
        nxt = _next_text(lines, 1)
        if nxt is not None and _GREETING.match(lines[nxt]):
            del lines[nxt]
            while nxt < len(lines) and not lines[nxt].strip() and nxt > 1 and not lines[nxt - 1].strip():
                del lines[nxt]
        elif nxt is not None and (prefix := _GREETING_PREFIX.match(lines[nxt])):
            rest = lines[nxt][prefix.end() :]
            lines[nxt] = rest[:1].upper() + rest[1:]
    last = _last_sign_off(lines, len(lines) - 1 - _NAME_LINES)
    if last is not None:
        earlier = _last_sign_off(lines[:last], last - 1 - _NAME_LINES - 1)
        if earlier is not None and earlier > 0:
            del lines[earlier:last]
            while earlier > 0 and not lines[earlier - 1].strip():
                earlier -= 1
                del lines[earlier]
            lines.insert(earlier, "")
    return "\n".join(lines)


def _next_text(lines: list[str], start: int) -> int | None:
    return next((i for i in range(start, len(lines)) if lines[i].strip()), None)


def _last_sign_off(lines: list[str], lowest: int) -> int | None:
    """The index of a sign-off line followed only by blank lines and at most _NAME_LINES name lines."""
    for i in range(len(lines) - 1, max(lowest, 0) - 1, -1):
        if _SIGN_OFF.match(lines[i]):
            return i
    return None
