"""Who may see what on the pages: role checks and object checks that answer 404."""

import functools

from flask import abort
from flask_login import current_user, login_required


def roles_required(*roles: str):
    """Signed in, with one of `roles`; anyone else gets a 404 (we do not confirm a page exists)."""

    def decorate(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if roles and current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorate


STAFF = ("agent", "manager", "admin", "analyst")
