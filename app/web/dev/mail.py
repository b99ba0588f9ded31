"""/dev/mail: the e-mails the development catcher received (app/mail/catcher.py), for admins.

Only in development (TICKETFLOW_ENV=development) and only for admins; 404 for everyone else.
A message's HTML is shown in a sandboxed frame (`srcdoc`, no scripts, under this page's strict
policy, which allows style attributes for it alone); its links are listed as plain links too.
"""

import functools

from flask import abort, current_app, render_template

from app.access import roles_required
from app.mail.catcher import caught, mail_dir, read
from app.mail.compose import URL
from app.security_headers import extend_csp
from app.web.dev.blueprint import bp


def development_only(view):
    """404 outside development mode."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_app.config.get("TICKETFLOW_ENV") != "development":
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def _part(message, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None and part.get_content_subtype() == subtype else ""


@bp.get("/mail")
@roles_required("admin")
@development_only
def mail_list():
    """List the caught e-mails, newest first."""
    messages = caught(mail_dir(current_app))
    return render_template("dev/mail_list.html", messages=messages)


@bp.get("/mail/<name>")
@roles_required("admin")
@development_only
@extend_csp({"style-src-attr": ["'unsafe-inline'"]})  # the mail's own style attributes, in its frame
def mail_message(name: str):
    """Show one caught e-mail: headers, HTML (sandboxed), text and its links."""
    message = read(mail_dir(current_app), name)
    if message is None:
        abort(404)
    text = _part(message, "plain")
    return render_template(
        "dev/mail_message.html",
        name=name,
        message=message,
        text=text,
        html=_part(message, "html"),
        links=list(dict.fromkeys(URL.findall(text))),
    )
