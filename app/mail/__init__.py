"""E-mail out: the worker sends the outbox over SMTP, one leased row at a time.

`send_due_mail()` is the worker's send step (claim, compose, send outside any transaction,
record); `compose` builds each message from the mail templates; `catcher` is the development
SMTP server `make run` sends to, read at /dev/mail.
"""

from app.mail.outbox import claim_mail, send_due_mail

__all__ = ["claim_mail", "send_due_mail"]
