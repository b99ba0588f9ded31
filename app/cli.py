"""Command-line tools: `flask processes deploy` (and `check`, `test`), `flask users ...`, `flask seed`,
`flask worker`, `flask mail-gateway`, `flask dev advance-ticket` (development only)."""

import re
import signal
import sys
import threading
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.accounts import TOKEN_SCOPES, create_user, deactivate, new_token, revoke_token, tokens_of
from app.cli_schema import guard
from app.clock import utcnow
from app.devserver import serve_command
from app.engine import (
    DiagramRejected,
    InvalidData,
    NotFound,
    check_files,
    definition_files,
    deploy_bundle,
    hand_over_tasks,
    instance_of_ticket,
    latest_definition,
    move_timers,
    run_process_tests,
    waiting_of,
)
from app.extensions import db
from app.models import ROLES, HumanTask, User
from app.transactions import write_transaction

processes = AppGroup("processes", help="Check and deploy bundles of diagrams, decisions and forms.")
users = AppGroup("users", help="Create and deactivate users; create, list and revoke API tokens.")
dev = AppGroup("dev", help="Development and test tools (refused in production).")


BUNDLE_SUFFIXES = (".bpmn", ".dmn", ".json", ".xml", ".zip")


def _bundle_files(paths) -> list[tuple[str, bytes]]:
    """Files of the given paths; a folder gives its .bpmn, .dmn, .json and .xml files."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(
                (p.name, p.read_bytes())
                for p in sorted(path.iterdir())
                if p.is_file() and p.suffix.lower() in BUNDLE_SUFFIXES
            )
        else:
            files.append((path.name, path.read_bytes()))
    return files


def _echo_problems(exc: DiagramRejected) -> None:
    for problem in exc.problems:
        where = " ".join(x for x in (problem.file, problem.element_id) if x) or "bundle"
        click.echo(f"  - {where}: {problem.message}", err=True)


@processes.command("deploy")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def deploy_command(paths):
    """Deploy files or folders as one bundle (default: processes/ and forms/), all or nothing."""
    if not paths:
        paths = [current_app.config["PROCESSES_DIR"], current_app.config["FORMS_DIR"]]
        paths = [p for p in paths if Path(p).is_dir()]
    try:
        result = deploy_bundle(_bundle_files(paths), actor="cli")
    except DiagramRejected as exc:
        click.echo("REJECTED: nothing was deployed", err=True)
        _echo_problems(exc)
        sys.exit(1)
    for entry in result.processes + result.decisions:
        state = "deployed" if entry["created"] else "unchanged"
        click.echo(f"{entry['key']} v{entry['version']} ({state})")
    created_forms = [f"{f['name']} v{f['version']}" for f in result.forms if f["created"]]
    if created_forms:
        click.echo(f"forms: {', '.join(created_forms)}")
    for warning in result.warnings:
        click.echo(f"warning: {warning.file or ''} {warning.element_id or ''}: {warning.message}", err=True)


@processes.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def check_command(paths):
    """Check files or folders as one bundle without deploying; prints a table, exit 1 if refused."""
    files = _bundle_files(paths)
    try:
        checked = check_files(files)
    except DiagramRejected as exc:
        by_file: dict[str, list] = {}
        for problem in exc.problems:
            by_file.setdefault(problem.file or "(bundle)", []).append(problem)
        click.echo(f"{'file':<40} {'process':<30} result")
        for name, _ in files:
            for problem in by_file.pop(name, []) or [None]:
                if problem is None:
                    click.echo(f"{name:<40} {'':<30} no problem in this file")
                else:
                    click.echo(f"{name:<40} {problem.element_id or '':<30} refused: {problem.message}")
        for name, problems in by_file.items():
            for problem in problems:
                click.echo(f"{name:<40} {problem.element_id or '':<30} refused: {problem.message}")
        click.echo(f"REFUSED: {len(exc.problems)} problem(s); nothing would be deployed")
        sys.exit(1)
    click.echo(f"{'file':<40} {'process':<30} result")
    for process in checked.processes:
        click.echo(f"{process.file:<40} {process.key:<30} accepted")
    for decision in checked.decisions:
        click.echo(f"{decision.file:<40} {decision.key:<30} accepted (decision)")
    for name in checked.forms:
        click.echo(f"{name:<40} {'':<30} accepted (form)")
    for warning in checked.warnings:
        click.echo(f"warning: {warning.file or ''} {warning.element_id or ''}: {warning.message}")
    click.echo("ACCEPTED")


@processes.command("test")
@click.argument("target", required=False)
@click.option("--scenario", "only", help="Run only the scenarios with this name.")
def test_command(target, only):
    """Run the process tests (<key>.tests.json): of a folder's bundle, of a deployed type KEY, or
    of processes/ and forms/; exit 1 when a scenario fails."""
    if target is None or Path(target).exists():
        paths = [target] if target else [current_app.config["PROCESSES_DIR"], current_app.config["FORMS_DIR"]]
        files = {name: data.decode() for name, data in _bundle_files([p for p in paths if Path(p).exists()])}
    else:
        definition = latest_definition(target, "bpmn")
        if definition is None:
            raise click.ClickException(f"'{target}' is neither a folder nor a deployed ticket type")
        files = definition_files(definition)
    results = run_process_tests(files, scenario=only)
    if not results:
        raise click.ClickException("no process test file (<key>.tests.json) found")
    failed = passed = 0
    for result in results:
        for problem in result.problems:
            where = " ".join(x for x in (problem["file"], problem["element_id"]) if x)
            click.echo(f"ERROR {result.process}: {where}: {problem['message']}")
            failed += 1
        for scenario in result.scenarios:
            if scenario.passed:
                passed += 1
                click.echo(f"PASS  {result.process}: {scenario.name} ({len(scenario.path)} elements passed)")
                continue
            failed += 1
            where = f" at '{scenario.failed_element}'" if scenario.failed_element else ""
            click.echo(f"FAIL  {result.process}: {scenario.name}{where}: {scenario.message}")
            click.echo(f"      path: {' > '.join(scenario.path) or '(none)'}")
    click.echo(f"{passed} passed, {failed} failed")
    if failed:
        sys.exit(1)


@users.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--team", "teams", multiple=True, help="Team key (repeatable).")
@click.option("--password", help="Password for signing in to the web pages.")
@click.option("--name")
@click.option("--email")
def create_user_command(username, role, teams, password, name, email):
    """Create a user with a role (a customer also gets a customer profile)."""
    with write_transaction():
        user = create_user(username, role, name=name, email=email, password=password, teams=teams)
    click.echo(f"created {user.role} '{user.username}' (id {user.id})")


def _user(username: str) -> User:
    user = db.session.execute(db.select(User).where(User.username == username)).scalar()
    if user is None:
        raise click.BadParameter(f"no user '{username}'")
    return user


@users.command("create-token")
@click.argument("username")
@click.option("--name", help="A name to list and revoke it by (default token-N).")
@click.option("--expires-in", "expires_in", type=int, help="Days until the token stops working.")
@click.option(
    "--scope", "scopes", multiple=True, type=click.Choice(TOKEN_SCOPES), help="An extra right (repeatable)."
)
def create_token_command(username, name, expires_in, scopes):
    """Print a new API token for USERNAME (only its hash is kept: copy it now)."""
    with write_transaction():
        token = new_token(_user(username), name=name, expires_in_days=expires_in, scopes=scopes)
    click.echo(token)


@users.command("tokens")
@click.argument("username")
def tokens_command(username):
    """List USERNAME's API tokens: id, name, scopes, created, expires, last used, state."""
    now = utcnow()
    click.echo(
        f"{'id':>5}  {'name':<20} {'scopes':<12} {'created':<17} {'expires':<17} {'last used':<17} state"
    )
    for token in tokens_of(_user(username)):
        if token.revoked_at is not None:
            state = f"revoked {_when(token.revoked_at)}"
        elif token.expires_at is not None and token.expires_at <= now:
            state = "expired"
        else:
            state = "live"
        click.echo(
            f"{token.id:>5}  {token.name:<20} {token.scopes or '-':<12} {_when(token.created_at):<17} "
            f"{_when(token.expires_at) or 'never':<17} {_when(token.last_used_at) or 'never':<17} {state}"
        )


@users.command("revoke")
@click.argument("username")
@click.argument("token")
def revoke_command(username, token):
    """Revoke USERNAME's live API token TOKEN, given by its id or its name."""
    with write_transaction():
        revoked = revoke_token(_user(username), token)
    click.echo(f"revoked token {revoked.id} '{revoked.name}' of '{username}'")


@users.command("deactivate")
@click.argument("username")
@click.option("--to-queue", is_flag=True, help="Give their open tasks back to their teams' queues.")
@click.option("--reassign-to", "agent", metavar="AGENT", help="Give their open tasks to this active agent.")
def deactivate_command(username, to_queue, agent):
    """Deactivate USERNAME (sessions end, tokens are revoked) and move their open tasks, in one step."""
    user = _user(username)
    if not user.active:
        raise click.BadParameter(f"'{username}' is already inactive", param_hint="USERNAME")
    if to_queue and agent:
        raise click.UsageError("choose one: --to-queue or --reassign-to AGENT")
    count = db.session.execute(
        db.select(db.func.count(HumanTask.id)).where(HumanTask.assignee_id == user.id)
    ).scalar_one()
    if count and not (to_queue or agent):
        raise click.UsageError(
            f"'{username}' has {count} open tasks: say where they go, --to-queue or --reassign-to AGENT"
        )
    to = _user(agent) if agent else None
    try:
        moved = hand_over_tasks(user, to, "cli", also=lambda: deactivate(user))
    except InvalidData as exc:
        raise click.BadParameter(exc.errors["reassign_to"], param_hint="--reassign-to") from None
    where = f"to '{to.username}'" if to is not None else "to their teams' queues"
    click.echo(f"deactivated '{username}'; {len(moved)} open tasks moved {where}")


# --by of advance-ticket: a number and a unit (m minutes, h hours, d days, w weeks).
SHIFT = re.compile(r"(\d{1,6})\s*([mhdw])")
MINUTES_PER = {"m": 1, "h": 60, "d": 24 * 60, "w": 7 * 24 * 60}


@dev.command("advance-ticket")
@click.argument("ticket_id", metavar="TICKET", type=int)
@click.option("--by", "shift", required=True, metavar="TIME", help="How far: 90m, 3h, 2d or 1w.")
@click.option("--no-run", is_flag=True, help="Only move the timers; leave firing them to the worker.")
def advance_ticket_command(ticket_id, shift, no_run):
    """Move TICKET's clock: its waiting timers come TIME closer, then the due ones fire now.

    Shows a reminder, an escalation or the satisfaction survey without waiting. Development and
    test configurations only (TICKETFLOW_ENV=development or test).
    """
    if current_app.config.get("TICKETFLOW_ENV") not in ("development", "test"):
        raise click.UsageError(
            "only in development: TICKETFLOW_ENV is " + current_app.config["TICKETFLOW_ENV"]
        )
    match = SHIFT.fullmatch((shift or "").strip().lower())
    if not match:
        raise click.BadParameter(f"'{shift}' is not a time such as 90m, 3h, 2d or 1w", param_hint="--by")
    minutes = int(match.group(1)) * MINUTES_PER[match.group(2)]
    try:
        instance = instance_of_ticket(ticket_id)
        moved = move_timers(instance.id, minutes, actor="cli")
    except (NotFound, InvalidData) as exc:
        message = exc.errors.get("minutes", exc.message) if isinstance(exc, InvalidData) else exc.message
        hint = "--by" if isinstance(exc, InvalidData) else "TICKET"
        raise click.BadParameter(message, param_hint=hint) from None
    click.echo(f"ticket {ticket_id}: {moved} timer(s) moved {shift} closer")
    if not no_run:
        from app.worker import drain

        click.echo(f"fired or ran {drain()} due timer(s) and job(s)")
    waits = waiting_of(instance.id)
    for timer in waits["timers"]:
        click.echo(f"  now waiting: timer {timer['element_id']} due {timer['due_at']}")
    for message in waits["messages"]:
        click.echo(f"  now waiting: message {message['name']} ({message['element_id']})")
    if not waits["timers"] and not waits["messages"]:
        click.echo("  the ticket waits for nothing (a person's task, or its process ended)")


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


@click.command("seed")
@click.option(
    "--history",
    "period",
    metavar="PERIOD",
    help="Also generate this much ticket history through the engine, ending now: 6m, 3m, 30d, 2w.",
)
@click.option(
    "--seed", "random_seed", type=int, default=7, show_default=True, help="Random seed of the history."
)
@click.option(
    "--per-day", type=float, default=14.0, show_default=True, help="Tickets opened on a weekday (history)."
)
def seed_command(period, random_seed, per_day):
    """Add the demo teams, agents, customers and admin (idempotent); --history adds months of tickets."""
    from app.seed import seed_demo

    days = None
    if period is not None:
        from app.demo import parse_period

        try:
            days = parse_period(period)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--history") from None
    created = seed_demo()
    click.echo(f"demo data: {created} new rows" if created else "demo data already present")
    if days is not None:
        from app.demo import seed_history

        paths = [current_app.config["PROCESSES_DIR"], current_app.config["FORMS_DIR"]]
        deploy_bundle(
            _bundle_files([p for p in paths if Path(p).is_dir()]), actor="cli"
        )  # unchanged if deployed
        summary = seed_history(days, seed=random_seed, per_day=per_day, progress=click.echo)
        for line in summary.lines():
            click.echo(line)
        click.echo(f"history generated in {summary.seconds:.0f} s")


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
    click.echo("worker stopping: finishing the job in hand, releasing the rest")
    worker.stop()


@click.command("mail-gateway")
@click.option("--host", default=None, help="Address to listen on (default MAIL_GATEWAY_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default MAIL_GATEWAY_PORT, 2525).")
def mail_gateway_command(host, port):
    """Take e-mail for the support address over SMTP: replies, new tickets, held mail (docs/mail.md)."""
    from app.engine import receive_customer_mail
    from app.mail.gateway import MailGateway

    app = current_app._get_current_object()
    gateway = MailGateway(app, receive_customer_mail, host, port).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"mail gateway listening on {gateway.host}:{gateway.port}; Ctrl+C to stop")
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    gateway.stop()


def init_app(app: Flask) -> None:
    """Add the commands to `flask`."""
    from app.stats.cli import stats_command

    for command in (processes, users, dev, seed_command, worker_command, mail_gateway_command):
        app.cli.add_command(guard(command))
    app.cli.add_command(serve_command)
    app.cli.add_command(guard(stats_command))
