"""Commands for a ticket's conversation: a message written in it, and the customer's answer to a question.

A comment is a business row, but writing one is a state change of the ticket like any other:
it is recorded in the history (`comment_added`), and an answer commits together with its
delivery to the waiting process or not at all.
"""

from app.clock import utcnow
from app.engine.commands.agent_mail import mail_customer_wrote
from app.engine.commands.customer_messages import flag_customer_message, read_customer_messages
from app.engine.commands.messages import deliver_message
from app.engine.errors import InvalidData, NotFound
from app.engine.runtime.history import history
from app.engine.runtime.runner import run_command
from app.extensions import db
from app.models import Attachment, Comment, OutboxMessage, Ticket, User

Upload = tuple[str, str, bytes]  # (file name, content type, content), already checked by the page


def add_comment(ticket_id: int, author: User, body: str, *, notify_customer: bool = False) -> int:
    """Add a message to a ticket's conversation, e-mailing it to the customer if asked.

    A customer's message (written outside a question) marks the ticket as updated and flags it to
    its team: unread, a task to read it, a reopen of a lately closed ticket
    (`customer_messages.flag_customer_message`). An agent's with `notify_customer` also leaves as
    an e-mail (an outbox row) in the same transaction, and marks what the customer wrote as read.

    Returns:
        The id of the comment.

    Raises:
        NotFound: no such ticket (404).
        InvalidData: the message is empty (422, field `body`).
    """
    _check_body(body)

    def command():
        ticket = _ticket(ticket_id)
        comment = _comment(ticket, author, body)
        data = {"comment_id": comment.id, "author_kind": comment.author_kind}
        if notify_customer:
            mail = OutboxMessage(
                kind="email",
                ticket_id=ticket.id,
                recipient=ticket.customer.email,
                subject=f"[Ticket #{ticket.id}] {ticket.subject}",
                body=f"{body}\n\n{author.name}",
                created_at=comment.created_at,
            )
            db.session.add(mail)
            db.session.flush()
            data["outbox_id"] = mail.id
        history("comment_added", ticket_id=ticket.id, actor=author.username, at=comment.created_at, data=data)
        if comment.author_kind == "customer":  # written outside a question: the team must hear of it
            flag_customer_message(ticket, comment.id, author.username)
            mail_customer_wrote(ticket, body, "in the portal")
        elif notify_customer and ticket.customer_unread_since is not None:
            read_customer_messages(ticket, author)  # an agent who answers the customer has read them
        return comment.id

    return run_command(command)


def answer_question(
    ticket_id: int,
    author: User,
    body: str,
    *,
    message: str,
    attachments: list[Upload] | tuple[Upload, ...] = (),
) -> str:
    """Keep the customer's answer (and its files) and deliver it to the process waiting for it.

    The comment, the attachments and the delivery commit together: when nothing waits for the
    message, or the process fails on it, none of them is stored.

    Args:
        message: the name of the message the process waits for; its payload is
            `{"message": body}`, plus `"attachments"` (the file names) when files came with it.
        attachments: `(file name, content type, content)` of each file, checked by the caller.

    Returns:
        The BPMN id of the event that caught the answer.

    Raises:
        NotFound: no such ticket, or it does not wait for `message` (404).
        InvalidData: the answer or a file is empty (422).
        StepFailed: the process failed on the answer (422).
    """
    _check_body(body)
    if any(not content for _, _, content in attachments):
        raise InvalidData({"attachment": "the file is empty"})
    payload: dict = {"message": body}
    if attachments:
        payload["attachments"] = [name for name, _, _ in attachments]

    def command():
        ticket = _ticket(ticket_id)
        comment = _comment(ticket, author, body)
        files = [
            Attachment(
                ticket_id=ticket.id,
                filename=name,
                content_type=kind,
                size=len(content),
                data=content,
                uploaded_by_id=author.id,
            )
            for name, kind, content in attachments
        ]
        db.session.add_all(files)
        db.session.flush()
        history(
            "comment_added",
            ticket_id=ticket.id,
            actor=author.username,
            at=comment.created_at,
            data={
                "comment_id": comment.id,
                "author_kind": comment.author_kind,
                "answers": message,
                "attachments": [f.id for f in files],
            },
        )
        if comment.author_kind == "customer":
            mail_customer_wrote(ticket, body, "in the portal")
        return deliver_message(ticket.id, message, payload, actor=author.username)  # joins this command

    return run_command(command)


NOTE_MAX = 2000  # characters of an internal note


def add_internal_note(ticket_id: int, author: User, body: str) -> None:
    """Add an internal note to a ticket: staff read it on the timeline, the customer never does.

    A note is a history row (`note_added`, the text in its data), not a conversation message, so
    nothing that shows the customer the conversation can show it.

    Raises:
        NotFound: no such ticket (404).
        InvalidData: the note is empty or longer than NOTE_MAX characters (422, field `body`).
    """
    _check_body(body)
    if len(body) > NOTE_MAX:
        raise InvalidData({"body": f"a note is at most {NOTE_MAX} characters long"})

    def command():
        ticket = _ticket(ticket_id)
        history("note_added", ticket_id=ticket.id, actor=author.username, data={"body": body.strip()})

    run_command(command)


def read_customer_message(ticket_id: int, user: User) -> None:
    """An agent read what the customer wrote: the badge clears, the reading tasks close, a ticket the
    message reopened closes again with its earlier status.

    Raises:
        NotFound: no such ticket (404).
    """

    def command():
        read_customer_messages(_ticket(ticket_id), user)

    run_command(command)


def _check_body(body: str) -> None:
    if not isinstance(body, str) or not body.strip():
        raise InvalidData({"body": "write a message first"})


def _ticket(ticket_id: int) -> Ticket:
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    return ticket


def _comment(ticket: Ticket, author: User, body: str) -> Comment:
    """The comment row; a customer's message marks the ticket as updated."""
    now = utcnow()
    kind = "customer" if author.role == "customer" else "agent"
    comment = Comment(ticket_id=ticket.id, author_id=author.id, author_kind=kind, body=body, created_at=now)
    db.session.add(comment)
    if kind == "customer":
        ticket.updated_at = now
    db.session.flush()
    return comment
