"""Command-line tools: `flask processes deploy`, `flask users ...`, `flask seed`, `flask worker`."""

import signal
import sys
import threading
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.engine import DiagramRejected, deploy
from app.extensions import db
from app.models import ROLES, Customer, Team, TeamMember, User
from app.passwords import hash_password

processes = AppGroup("processes", help="Deploy the diagrams shipped in processes/.")
users = AppGroup("users", help="Create users and API tokens.")


@processes.command("deploy")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False))
def deploy_command(paths):
    """Deploy diagrams (default: every .dmn, then every .bpmn in processes/)."""
    if not paths:
        folder = Path(current_app.config["PROCESSES_DIR"])
        paths = sorted(folder.glob("*.dmn")) + sorted(folder.glob("*.bpmn"))
    failed = False
    for path in paths:
        try:
            definition, created = deploy(Path(path).read_bytes(), actor="cli")
        except DiagramRejected as exc:
            failed = True
            click.echo(f"{path}: REJECTED", err=True)
            for problem in exc.problems:
                click.echo(f"  - {problem.element_id or 'diagram'}: {problem.message}", err=True)
            continue
        state = "deployed" if created else "unchanged"
        click.echo(f"{path}: {definition.key} v{definition.version} ({state})")
    if failed:
        sys.exit(1)


def create_user(username: str, role: str, *, name: str | None = None, email: str | None = None,
                password: str | None = None, teams: tuple[str, ...] = (), lead: bool = False,
                skills: str = "", capacity: int = 20) -> User:
    """Create a user (and a customer profile for a customer); the caller commits."""
    if role not in ROLES:
        raise click.BadParameter(f"role must be one of {', '.join(ROLES)}")
    if db.session.execute(db.select(User).where(User.username == username)).scalar():
        raise click.BadParameter(f"user '{username}' already exists")
    user = User(username=username, name=name or username.title(), email=email or f"{username}@example.com",
                role=role, skills=skills, capacity=capacity,
                password_hash=hash_password(password) if password else None)
    db.session.add(user)
    db.session.flush()
    for key in teams:
        team = db.session.execute(db.select(Team).where(Team.key == key)).scalar()
        if team is None:
            raise click.BadParameter(f"no team '{key}'")
        db.session.add(TeamMember(team_id=team.id, user_id=user.id, is_lead=lead))
    if role == "customer":
        db.session.add(Customer(user_id=user.id, name=user.name, email=user.email))
    return user


@users.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--team", "teams", multiple=True, help="Team key (repeatable).")
@click.option("--password", help="Password for signing in to the web pages.")
@click.option("--name")
@click.option("--email")
def create_user_command(username, role, teams, password, name, email):
    """Create a user with a role (a customer also gets a customer profile)."""
    user = create_user(username, role, name=name, email=email, password=password, teams=teams)
    db.session.commit()
    click.echo(f"created {user.role} '{user.username}' (id {user.id})")


@users.command("create-token")
@click.argument("username")
def create_token_command(username):
    """Print a new API token for USERNAME."""
    from app.api.auth import new_token

    user = db.session.execute(db.select(User).where(User.username == username)).scalar()
    if user is None:
        raise click.BadParameter(f"no user '{username}'")
    token = new_token(user)
    db.session.commit()
    click.echo(token)


@click.command("seed")
def seed_command():
    """Add the demo teams, agents, customers and admin (idempotent)."""
    from app.seed import seed_demo

    created = seed_demo()
    click.echo(f"demo data: {created} new rows" if created else "demo data already present")


@click.command("worker")
def worker_command():
    """Run a worker: fire timers and run service-task jobs until stopped."""
    from app.worker import Worker

    worker = Worker(current_app._get_current_object())
    worker.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo("worker running; Ctrl+C to stop")
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    worker.shutdown()


def register_cli(app: Flask) -> None:
    app.cli.add_command(processes)
    app.cli.add_command(users)
    app.cli.add_command(seed_command)
    app.cli.add_command(worker_command)
