"""E-mail in, read: one received message as the facts the engine acts on, never raising.

`parse(raw, mail_from, rcpt_tos)` reads the bytes with Python's email package (policy.default)
and says who wrote, about which ticket (the Message-IDs it answers, `[#123]` in its subject,
the `support+123@` address it was sent to), what they wrote (the plain text, else the HTML's
text, without the quoted earlier mails), which files came with it, and whether a machine
wrote it (an auto-reply or a bounce: those never open a ticket and are never answered).
A malformed message gives what could be read, never an exception.
"""

import hashlib
import html
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from app.models import MAX_ATTACHMENT_BYTES

MAX_FILES = 5  # like a portal answer
MAX_TEXT = 10000  # characters of a message kept in the conversation
MESSAGE_IDS = re.compile(r"<[^<>\s]{1,250}>")
SUBJECT_TICKET = re.compile(r"\[(?:Ticket\s*)?#(\d{1,9})\]", re.IGNORECASE)  # an id fits an int column
REPLY_PREFIX = re.compile(r"^\s*((re|aw|fwd?|wg|sv|antw)\s*:\s*)+", re.IGNORECASE)
QUOTE_START = re.compile(
    r"^(On .{0,200}wrote:\s*$|Am .{0,200}schrieb.{0,80}:\s*$|-{2,}\s*Original Message\s*-{2,}|_{10,}\s*$)",
    re.IGNORECASE | re.MULTILINE,
)
BULK = frozenset({"bulk", "junk", "list", "auto_reply"})
BOUNCE_SENDERS = frozenset({"mailer-daemon", "postmaster"})

Upload = tuple[str, str, bytes]  # (file name, content type, content), like a portal upload


@dataclass(frozen=True)
class InboundMessage:
    """What the engine needs of one received message."""

    message_id: str  # its Message-ID, or a digest of its bytes when it has none
    sender: str  # the From address, lower case ("" when unreadable)
    sender_name: str
    subject: str
    text: str
    answers: tuple[str, ...] = ()  # Message-IDs it replies to: In-Reply-To first, then References
    subject_ticket: int | None = None  # [#123] in the subject
    address_ticket: int | None = None  # support+123@ among the recipients
    automatic: str | None = None  # why a machine wrote it; None: a person did
    attachments: tuple[Upload, ...] = ()
    refused_files: tuple[str, ...] = field(default=())  # "name: why", for the conversation
    size: int = 0


def parse(
    raw: bytes, mail_from: str | None = None, rcpt_tos: list[str] | tuple[str, ...] = ()
) -> InboundMessage:
    """Read one message as received (`mail_from`: the envelope's return path, "" for a bounce)."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    name, sender = _from(message)
    subject = " ".join(_header(message, "Subject").split())[:300]
    ticket = SUBJECT_TICKET.search(subject)
    files, refused = _attachments(message)
    return InboundMessage(
        message_id=_message_id(message, raw),
        sender=sender,
        sender_name=name,
        subject=subject,
        text=_text(message),
        answers=tuple(
            dict.fromkeys(
                MESSAGE_IDS.findall(_header(message, "In-Reply-To"))
                + list(reversed(MESSAGE_IDS.findall(_header(message, "References"))))
            )
        ),
        subject_ticket=int(ticket.group(1)) if ticket else None,
        address_ticket=next((n for n in map(plus_ticket, rcpt_tos) if n is not None), None),
        automatic=_automatic(message, mail_from, sender),
        attachments=tuple(files),
        refused_files=tuple(refused),
        size=len(raw),
    )


def clean_subject(subject: str) -> str:
    """The subject without Re:/Fwd: and the ticket reference: the subject of a ticket opened by mail."""
    return REPLY_PREFIX.sub("", SUBJECT_TICKET.sub("", subject)).strip()


def plus_ticket(address: str) -> int | None:
    """The ticket id of a plus-address, `support+123@example.com` -> 123."""
    local = parseaddr(address or "")[1].partition("@")[0]
    tag = local.partition("+")[2]
    return int(tag) if tag.isdigit() and len(tag) <= 9 else None


def is_ours(address: str, config) -> bool:
    """Whether the gateway takes mail for `address`: the reply-to address (also with a +tag), or one
    of MAIL_GATEWAY_ADDRESSES."""
    wanted = parseaddr(address or "")[1].lower()
    if not wanted or wanted in config.get("MAIL_GATEWAY_ADDRESSES", ()):
        return bool(wanted)
    ours = parseaddr(config.get("MAIL_REPLY_TO") or config["MAIL_FROM"])[1].lower()
    local, _, host = wanted.rpartition("@")
    our_local, _, our_host = ours.rpartition("@")
    return host == our_host and local.partition("+")[0] == our_local.partition("+")[0]


def _header(message: EmailMessage, name: str) -> str:
    """A header as text; "" when missing or unreadable."""
    try:
        value = message.get(name)
        return str(value) if value is not None else ""
    except Exception:  # a header the email package cannot parse: treat it as absent
        return ""


def _from(message: EmailMessage) -> tuple[str, str]:
    try:
        header = message.get("From")
        if header is not None and getattr(header, "addresses", None):
            first = header.addresses[0]
            return first.display_name or "", (first.addr_spec or "").strip().lower()
    except Exception:
        pass
    pairs = getaddresses([_header(message, "From")])
    name, address = pairs[0] if pairs else ("", "")
    return name, address.strip().lower() if "@" in address else ""


def _message_id(message: EmailMessage, raw: bytes) -> str:
    found = MESSAGE_IDS.findall(_header(message, "Message-ID"))
    return found[0] if found else f"<sha256.{hashlib.sha256(raw).hexdigest()}@inbound>"


def _automatic(message: EmailMessage, mail_from: str | None, sender: str) -> str | None:
    """Why the message was written by a machine (RFC 3834 and common practice), or None."""
    auto = _header(message, "Auto-Submitted").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto[:60]}"
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in BULK:
        return f"Precedence: {precedence}"
    if message.get_content_type() == "multipart/report":
        return "a delivery or read report (multipart/report)"
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return "an auto-responder's reply (X-Autoreply)"
    if mail_from is not None and mail_from.strip() in ("", "<>"):
        return "an empty return path (a bounce)"
    if not sender:
        return "no readable sender"
    if sender.partition("@")[0] in BOUNCE_SENDERS:
        return f"sent by {sender.partition('@')[0].upper()}"
    return None


def _text(message: EmailMessage) -> str:
    """The message's own words: its plain text (else its HTML as text), quoted mails cut off."""
    try:
        body = message.get_body(preferencelist=("plain", "html"))
        content = body.get_content() if body is not None else ""
        if body is not None and body.get_content_type() == "text/html":
            content = html_text(content)
    except Exception:  # an unknown charset or a broken transfer encoding
        try:
            payload = message.get_payload(decode=True) if not message.is_multipart() else b""
            content = (payload or b"").decode("utf-8", errors="replace")
        except Exception:
            content = ""
    return without_quote(str(content).replace("\r\n", "\n"))[:MAX_TEXT].strip()


def html_text(source: str) -> str:
    """HTML as plain text: blocks become lines, tags go, entities are decoded."""
    source = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", "", source)
    source = re.sub(r"(?i)<br\s*/?>|</(p|div|li|tr|h[1-6])>", "\n", source)
    source = re.sub(r"(?is)<blockquote\b.*?</blockquote>", "", source)
    return html.unescape(re.sub(r"<[^>]*>", "", source))


def without_quote(text: str) -> str:
    """The text before the quoted earlier mail ("On ... wrote:", "> ..." lines)."""
    match = QUOTE_START.search(text)
    if match and match.start() > 0:
        text = text[: match.start()]
    lines = [line for line in text.split("\n") if not line.startswith(">")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _attachments(message: EmailMessage) -> tuple[list[Upload], list[str]]:
    """The files of the message within the portal's limits; the others named with the reason."""
    files, refused = [], []
    try:
        parts = list(message.iter_attachments()) if message.is_multipart() else []
    except Exception:
        return [], ["the attachments could not be read"]
    for part in parts:
        name = _file_name(part)
        if name is None:
            continue
        try:
            data = part.get_payload(decode=True) or b""
        except Exception:
            refused.append(f"{name}: it could not be decoded")
            continue
        if not data:
            refused.append(f"{name}: the file is empty")
        elif len(data) > MAX_ATTACHMENT_BYTES:
            refused.append(f"{name}: the file is larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB")
        elif len(files) >= MAX_FILES:
            refused.append(f"{name}: at most {MAX_FILES} files are kept per message")
        else:
            files.append((name, part.get_content_type()[:120], data))
    return files, refused


def _file_name(part) -> str | None:
    """The part's clean file name (like a portal upload's), or None for a part that is not a file."""
    try:
        raw = part.get_filename()
    except Exception:
        raw = None
    if raw is None:
        return None
    name = re.sub(r"[\x00-\x1f\x7f]", "", str(raw).replace("\\", "/").rsplit("/", 1)[-1])
    return name.strip()[:255] or "attachment"
