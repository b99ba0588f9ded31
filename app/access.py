"""Who may see what and who may do what: the role a page needs, the scope of a staff member
(their teams, the teams they lead, or all), and the policy on tasks and tickets (claim,
complete, release, reassign, cancel).

Tickets (`ticket_condition`, `ticket_visible`) belong to the teams that have or had tasks on them
and to their SLA policy's team; a staff member sees their teams' tickets and those they worked
on by hand (`ACTED_KINDS`: delivering a message is not among them). Incidents are scoped through
their ticket (`incident_condition`), message deliveries by `message_ticket_condition` (customers:
their own tickets' customer messages; staff: their teams' tickets; admins and tokens with the
`messages` scope: all).

Shared by the pages and the API so both answer the same question the same way; an object
outside a person's scope, or a page outside their role, is answered with a 404. (The API checks
roles on its bearer tokens in `app.api.auth`, with the same role names: `app.models.STAFF`.)

The policy (`may_claim`, `may_release`, `may_complete`, `may_reassign`, `may_cancel`,
`may_retry_incident`) answers
with a `Decision` that says why when it refuses. The engine asks it through its command checker
hook (`POLICY`, registered by `create_app` with `app.engine.register_checker`), so a command
refused here is refused whoever calls it; the pages ask it which buttons to show
(`task_actions`, `may_cancel`).
"""

import functools
from dataclasses import dataclass

from flask import abort, current_app
from flask_login import current_user, login_required
from sqlalchemy import bindparam, inspect, or_, true

from app.extensions import db
from app.models import STAFF, Customer, HistoryEvent, HumanTask, Incident, Team, TeamMember, Ticket, User

# Roles that may work on, release, reassign and cancel anything they see.
SUPERVISORS = ("admin", "manager")

# History rows a person writes by their own hand on a ticket: having written one keeps the ticket
# visible to them. Rows written by a message delivery (`message_delivered` and what the process
# does as it runs on) are not among them: delivering a message grants no access.
ACTED_KINDS = (
    "ticket_created",
    "task_claimed",
    "task_released",
    "task_completed",
    "task_reassigned",
    "comment_added",
    "instance_cancelled",
)

# The inbox views; "all" is only for those who see a team whole (leads, managers, admins).
VIEWS = {"mine": "My tasks", "team": "Unassigned in my teams", "all": "Everything in my teams"}


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


@dataclass(frozen=True)
class Scope:
    """What a staff member may see: their teams, the teams they see whole, or everything."""

    user_id: int
    team_keys: tuple[str, ...] = ()
    lead_keys: tuple[str, ...] = ()
    sees_all: bool = False

    @property
    def has_all_view(self) -> bool:
        return self.sees_all or bool(self.lead_keys)

    def views(self) -> list[str]:
        return [v for v in VIEWS if v != "all" or self.has_all_view]

    def may_see(self, task: HumanTask) -> bool:
        """An agent sees their own tasks, their teams' tasks and tasks outside any team."""
        return (
            self.sees_all
            or task.assignee_id == self.user_id
            or task.team is None
            or task.team in self.team_keys
        )


def scope_of(user: User) -> Scope:
    """Admins see everything; managers their teams whole (everything without a team); leads the teams they lead."""
    if "memberships" not in inspect(user).unloaded:  # loaded with the signed-in person (app.web.load_user)
        rows = [(m.team.key, m.is_lead) for m in user.memberships]
    else:
        rows = db.session.execute(_teams_query(), {"user_id": user.id}).all()
    teams = tuple(sorted(key for key, _ in rows))
    if user.role == "admin":
        return Scope(user.id, teams, teams, True)
    if user.role == "manager":
        return Scope(user.id, teams, teams, not teams)
    return Scope(user.id, teams, tuple(sorted(key for key, lead in rows if lead)))


def sees_task(user: User):
    """`scope_of(user).may_see`, reading the person's teams only for a task that is neither
    theirs nor outside any team (a command asks it of the task it acts on: most are the person's
    own)."""
    scope = None

    def visible(task: HumanTask) -> bool:
        nonlocal scope
        if task.assignee_id == user.id or task.team is None:
            return True
        if scope is None:
            scope = scope_of(user)
        return scope.may_see(task)

    return visible


@functools.cache
def _teams_query():
    """The person's teams and whether they lead each; built once (every API task action asks)."""
    return (
        db.select(Team.key, TeamMember.is_lead)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.user_id == bindparam("user_id"))
    )


def ticket_visible(scope: Scope, ticket_id: int, username: str) -> bool:
    """Whether the person may see (and act on) the ticket: the rule of `ticket_condition`."""
    if scope.sees_all:
        return True
    return (
        db.session.execute(
            db.select(Ticket.id).where(Ticket.id == ticket_id, ticket_condition(scope, username))
        ).scalar()
        is not None
    )


def closed_task_visible(scope: Scope, task_id: str, username: str) -> bool:
    """Whether to tell this person that a task is no longer open (rather than that it does not exist).

    The team of a closed task comes from its `task_assigned` history; a task that never had
    one was outside any team, open to every agent.
    """
    events = db.session.execute(
        db.select(HistoryEvent.kind, HistoryEvent.actor, HistoryEvent.data)
        .where(HistoryEvent.task_id == task_id[:36])
        .order_by(HistoryEvent.id)
    ).all()
    if not events:
        return False
    if scope.sees_all or any(actor == username and kind in ACTED_KINDS for kind, actor, _ in events):
        return True
    teams = [
        data.get("team") for kind, _, data in events if kind == "task_assigned" and isinstance(data, dict)
    ]
    return not teams or teams[-1] is None or teams[-1] in scope.team_keys


def task_condition(scope: Scope):
    """SQL condition on HumanTask: the tasks `scope` may see (mirrors Scope.may_see)."""
    if scope.sees_all:
        return true()
    return or_(
        HumanTask.assignee_id == scope.user_id, HumanTask.team.is_(None), HumanTask.team.in_(scope.team_keys)
    )


def ticket_condition(scope: Scope, username: str):
    """SQL condition on Ticket: the tickets a staff member may see and act on.

    A ticket belongs to the teams that have or had tasks on it and to the team its SLA policy
    names (its type's team); a person sees the tickets of their teams, those with a task they
    may see (their own, one outside any team), and those they worked on by hand (ACTED_KINDS).
    Every part is a lookup by ticket id (human_task.ticket_id, history_event (ticket_id, at)).
    """
    if scope.sees_all:
        return true()
    with_task = (
        db.select(HumanTask.id).where(HumanTask.ticket_id == Ticket.id, task_condition(scope)).exists()
    )
    had_team_task = (
        db.select(HistoryEvent.id)
        .where(
            HistoryEvent.ticket_id == Ticket.id,
            HistoryEvent.kind == "task_assigned",
            HistoryEvent.data["team"].as_string().in_(scope.team_keys),
        )
        .exists()
    )
    acted = (
        db.select(HistoryEvent.id)
        .where(
            HistoryEvent.ticket_id == Ticket.id,
            HistoryEvent.actor == username,
            HistoryEvent.kind.in_(ACTED_KINDS),
        )
        .exists()
    )
    return or_(Ticket.sla_team_key.in_(scope.team_keys), with_task, had_team_task, acted)


def incident_condition(scope: Scope, username: str):
    """SQL condition on Incident: those of the tickets the person may see (admins: all).

    No team column: the team comes through the incident's ticket (`ticket_condition`), so an
    incident without a ticket is for those who see everything.
    """
    if scope.sees_all:
        return true()
    return (
        db.select(Ticket.id)
        .where(Ticket.id == Incident.ticket_id, ticket_condition(scope, username))
        .exists()
    )


# An integration token with this scope may deliver any message to any ticket.
MESSAGES_SCOPE = "messages"


def message_ticket_condition(user: User, token_scopes: frozenset[str], name: str):
    """SQL condition on Ticket: the tickets `user` may deliver message `name` to, or None for none.

    Integration tokens with the `messages` scope and admins: every ticket. A customer: their own
    tickets, and only the messages customers send (`CUSTOMER_MESSAGES` in app/config.py). Staff:
    the tickets of their teams (`ticket_condition`). Anything else finds no ticket, so the caller
    answers 404 as if nothing waited for the message.
    """
    if MESSAGES_SCOPE in token_scopes or user.role == "admin":
        return true()
    if user.role == "customer":
        if name not in current_app.config["CUSTOMER_MESSAGES"]:
            return None
        own = db.select(Customer.id).where(Customer.user_id == user.id)
        return Ticket.customer_id.in_(own)
    if user.role in STAFF:
        return ticket_condition(scope_of(user), user.username)
    return None


def may_deliver_message(user: User, token_scopes: frozenset[str], ticket_id: int, name: str) -> bool:
    """Whether `user` may deliver message `name` to ticket `ticket_id` (see `message_ticket_condition`)."""
    condition = message_ticket_condition(user, token_scopes, name)
    if condition is None or not 0 < ticket_id < 2**63:
        return False
    return (
        db.session.execute(db.select(Ticket.id).where(Ticket.id == ticket_id, condition)).scalar() is not None
    )


@dataclass(frozen=True)
class Decision:
    """The policy's answer: allowed, or refused with the reason (shown to the person, sent as the error)."""

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Decision(True)


def _claimed_by_someone_else(task: HumanTask) -> Decision:
    return Decision(False, f"task {task.id} is claimed by someone else")


def _four_eyes(user: User, task: HumanTask) -> Decision | None:
    """A second approval is not for the person whose decision it checks (the engine refuses it too)."""
    if task.excluded_user_id is not None and task.excluded_user_id == user.id:
        return Decision(False, f"four eyes: {user.username} made the decision this task checks")
    return None


def may_claim(user: User, task: HumanTask) -> Decision:
    """Anyone may claim an unclaimed task; claiming one's own again changes nothing."""
    if (refused := _four_eyes(user, task)) is not None:
        return refused
    if task.assignee_id in (None, user.id):
        return ALLOWED
    return Decision(False, f"task {task.id} is already claimed by someone else")


def may_release(user: User, task: HumanTask) -> Decision:
    """Its holder, a manager or an admin may give a claimed task back (an unclaimed one stays as it is)."""
    if task.assignee_id in (None, user.id) or user.role in SUPERVISORS:
        return ALLOWED
    return _claimed_by_someone_else(task)


def may_complete(user: User, task: HumanTask) -> Decision:
    """An unclaimed task, one's own, or (for managers and admins) anyone's."""
    if (refused := _four_eyes(user, task)) is not None:
        return refused
    if task.assignee_id in (None, user.id) or user.role in SUPERVISORS:
        return ALLOWED
    return _claimed_by_someone_else(task)


def may_reassign(user: User, task: HumanTask, assignee: User | None = None) -> Decision:
    """Who may hand a task on: whoever may complete it, and the leads of its team; to whom: an
    active staff member of its team (anyone active of the staff for a task without a team).
    Without `assignee`, only the first question."""
    if not (may_complete(user, task) or (task.team is not None and user.leads(task.team))):
        return _claimed_by_someone_else(task)
    if assignee is None:
        return ALLOWED
    if task.team is not None and task.team not in assignee.team_keys:
        return Decision(False, f"{assignee.username} is not a member of team {task.team}")
    if assignee.role == "customer" or not assignee.active:
        return Decision(False, f"{assignee.username} cannot work on tasks")
    return ALLOWED


def may_cancel(user: User, ticket: Ticket | None) -> Decision:
    """Managers and admins may cancel a ticket, and so may the leads of the teams of its open tasks."""
    if user.role in SUPERVISORS:
        return ALLOWED
    if ticket is not None and user.role != "customer":
        teams = set(
            db.session.execute(
                db.select(HumanTask.team).where(HumanTask.ticket_id == ticket.id, HumanTask.team.is_not(None))
            ).scalars()
        )
        if any(user.leads(team) for team in teams):
            return ALLOWED
    return Decision(
        False, "only managers, admins and the leads of the teams of its open tasks may cancel a ticket"
    )


def may_retry_incident(user: User) -> Decision:
    """Managers and admins retry incidents (of the tickets they see), with or without editing the data."""
    if user.role in SUPERVISORS:
        return ALLOWED
    return Decision(False, "only managers and admins may retry an incident")


@dataclass(frozen=True)
class TaskActions:
    """The buttons a task page shows: each one the policy allows and that would change something."""

    claim: bool
    release: bool
    complete: bool
    reassign: bool


def task_actions(user: User, task: HumanTask) -> TaskActions:
    claimed = task.assignee_id is not None
    return TaskActions(
        claim=not claimed and bool(may_claim(user, task)),
        release=claimed and bool(may_release(user, task)),
        complete=bool(may_complete(user, task)),
        reassign=bool(may_reassign(user, task)),
    )


class Policy:
    """The engine's command checker (`app.engine.register_checker`): this module's answers."""

    def may_claim(self, user: User, task: HumanTask) -> Decision:
        return may_claim(user, task)

    def may_release(self, user: User, task: HumanTask) -> Decision:
        return may_release(user, task)

    def may_complete(self, user: User, task: HumanTask) -> Decision:
        return may_complete(user, task)

    def may_reassign(self, user: User, task: HumanTask, assignee: User | None = None) -> Decision:
        return may_reassign(user, task, assignee)

    def may_cancel(self, user: User, ticket: Ticket | None) -> Decision:
        return may_cancel(user, ticket)


POLICY = Policy()
