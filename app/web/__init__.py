"""Server-rendered pages, one blueprint package per audience: auth, inbox, portal, admin, survey, studio,
dashboard, staff search, and development tools (dev).

Each package exposes `bp` in its `__init__`; `init_app` registers them, the home redirect and the
favicon.
"""

from importlib import import_module

from flask import Flask, redirect, send_from_directory, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from app.extensions import db, login_manager
from app.models import TeamMember, User
from app.transactions import only_read
from app.web import amounts, formatting, markdown

# Blueprint packages, in registration order.
BLUEPRINTS = ("auth", "inbox", "portal", "admin", "survey", "studio", "dashboard", "search", "account", "dev")


def init_app(app: Flask) -> None:
    """Register the page blueprints and the home redirect."""
    for name in BLUEPRINTS:
        app.register_blueprint(import_module(f"app.web.{name}").bp)
    markdown.init_app(app)
    formatting.init_app(app)  # the `when` filter: dates in the viewer's zone
    amounts.init_app(app)  # the `money` filter: amounts with their currency

    @app.get("/")
    def home():
        """Send each person to their page."""
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        return redirect(url_for(home_endpoint(current_user)))

    @app.get("/favicon.ico")
    def favicon():
        """The site's icon where browsers look for it without a link (the SVG in app/static)."""
        return send_from_directory(app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400)


def home_endpoint(user: User) -> str:
    if user.role == "customer":
        return "portal.index"
    if user.role == "admin":
        return "admin.users"
    if user.role == "analyst":
        return "studio.index"
    return "inbox.index"


_WITH_TEAMS = (joinedload(User.memberships).joinedload(TeamMember.team),)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The signed-in user, if the session's generation is still theirs (see User.get_id)."""
    user_id, _, generation = session_id.partition(":")
    if not (user_id.isascii() and user_id.isdigit() and len(user_id) < 19):
        return None
    # With the person's teams: every staff page asks them (the nav's dashboard link, the scope).
    user = db.session.get(User, int(user_id), options=_WITH_TEAMS)
    if user is None or not user.active or str(user.session_generation) != generation:
        return None
    only_read()  # a form's engine command may go on in this transaction (PostgreSQL)
    return user
