"""Server-rendered pages, one blueprint package per audience: auth, inbox, portal, admin."""

from flask import Flask, redirect, url_for
from flask_login import current_user

from app.extensions import csrf, db, login_manager
from app.models import User

# Blueprint modules, in registration order; each exposes `bp`.
BLUEPRINTS = ("auth", "inbox", "portal", "admin", "survey")


def register_web(app: Flask) -> None:
    """Sign-in, CSRF, the page blueprints and the home redirect."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.session_protection = "strong"
    csrf.init_app(app)

    from importlib import import_module

    for name in BLUEPRINTS:
        module = import_module(f"app.web.{name}.routes")
        app.register_blueprint(module.bp)

    @app.get("/")
    def home():
        """Send each person to their page."""
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        return redirect(url_for(home_endpoint(current_user)))


def home_endpoint(user: User) -> str:
    if user.role == "customer":
        return "portal.index"
    if user.role == "admin":
        return "admin.users"
    return "inbox.index"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, tail = session_id.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active or (user.password_hash or "")[-12:] != tail:
        return None
    return user
