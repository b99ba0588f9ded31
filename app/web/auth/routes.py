"""Sign-in with Argon2id passwords, rate-limited; sign-out. The session is renewed at sign-in."""

from datetime import timedelta

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.clock import utcnow
from app.extensions import db
from app.models import LoginAttempt, User
from app.passwords import hash_password, verify_password
from app.web.auth.blueprint import bp

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$n5xfoHQ3zUXqTtt7kxrksg$UMrTRx443OrCvOXqh2WlGJkl0vuB11EIaOVDJnW3a5k"  # unknown users cost a real verify


def _recent_failures(username: str, remote_addr: str) -> int:
    since = utcnow() - WINDOW
    by_name = db.session.execute(
        db.select(db.func.count(LoginAttempt.id)).where(
            LoginAttempt.username == username, LoginAttempt.at >= since
        )
    ).scalar()
    by_addr = db.session.execute(
        db.select(db.func.count(LoginAttempt.id)).where(
            LoginAttempt.remote_addr == remote_addr, LoginAttempt.at >= since
        )
    ).scalar()
    return max(by_name, by_addr // 4)


def check_password(user: User | None, password: str) -> bool:
    """Verify with Argon2id; an unknown user costs the same time as a wrong password."""
    matches, stale = verify_password(
        user.password_hash if user and user.password_hash else _DUMMY_HASH, password
    )
    if not matches or user is None or not user.password_hash:
        return False
    if stale:
        user.password_hash = hash_password(password)
    return True


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form; sign in."""
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    if request.method == "POST":
        username = request.form.get("username", "").strip()[:80]
        password = request.form.get("password", "")
        remote = (request.remote_addr or "unknown")[:64]
        if _recent_failures(username, remote) >= MAX_FAILURES:
            flash("Too many failed sign-ins. Wait 15 minutes and try again.", "error")
            return render_template("auth/login.html", username=username), 429
        user = db.session.execute(db.select(User).where(User.username == username)).scalar()
        if check_password(user, password) and user.active:
            db.session.execute(db.delete(LoginAttempt).where(LoginAttempt.username == username))
            db.session.commit()
            session.clear()  # a new session at sign-in: no fixation
            login_user(user)
            target = request.args.get("next", "")
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("home")
            return redirect(target)
        db.session.add(LoginAttempt(username=username, remote_addr=remote, at=utcnow()))
        db.session.commit()
        flash("Unknown user name or wrong password.", "error")
        return render_template("auth/login.html", username=username), 401
    return render_template("auth/login.html", username="")


@bp.post("/logout")
@login_required
def logout():
    """Sign out and end the session."""
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
