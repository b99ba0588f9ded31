"""Team strategies that pick the agent for a new task: round robin, least loaded, skills.

`choose_assignee(team_key, required_skill, now, ticket_id)` is the one entry point. Candidates are the
team's active staff members, ordered by user id so every choice is deterministic. A required
skill narrows every strategy to the members who have it; when nobody has it the task stays
unassigned in the team queue, where any member can claim it.

- round_robin: the next candidate after the member who got the team's previous task
  (`assignment_cursor` keeps who that was, so the rotation survives completed tasks; its row
  is also the team's lock while a choice is made).
- least_loaded: the candidate with the fewest open tasks relative to their capacity; members
  at capacity are skipped; ties go to the lower user id.
- skills: least loaded among the members who have the required skill.

Before the strategy, a ticket's later task in a team goes back to the member who got its
earlier task there (`ticket_agent`), while they are still a candidate below capacity.

This runs for every task that opens, so it reads little: the team and its candidates in one
query (`roster`, plain rows), the cursor, the ticket's earlier agent; it writes the cursor and
`ticket_agent` only when who they name changes.
"""

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from functools import cache

from sqlalchemy import Integer, and_, bindparam, case, event, null
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from app.extensions import db
from app.models import AssignmentCursor, HumanTask, Team, TeamMember, TicketAgent, User

STRATEGIES = ("round_robin", "least_loaded", "skills")
# session.info: tickets whose `ticket_agent` rows are all in the session (opened in this
# transaction, or read with the ticket), and the rows read, held (the identity map holds weakly).
_IN_SESSION = "ticketflow_agents_in_session"
_HELD = "ticketflow_agents_held"


@dataclass(frozen=True)
class Choice:
    """Who gets the task (None: it stays in the team queue) and the rule that decided it."""

    user_id: int | None
    rule: str
    username: str | None = None
    wants_mail: bool | None = None  # False: the assignee has no task mail to get (None: not known)


@dataclass(frozen=True)
class Member:
    """A candidate of a team: an active staff member (a lead, for escalations)."""

    id: int
    username: str
    skills: str | None
    capacity: int
    wants_mail: bool  # has an e-mail address and chose `mail_notifications`
    open_tasks: int | None = None  # counted with the roster for the ticket's earlier agent only


@dataclass(frozen=True)
class Roster:
    """A team and its candidates, ordered by user id, as `roster` read them in one query, with
    the team's cursor (row-locked on PostgreSQL) when it has one yet."""

    id: int
    key: str
    strategy: str | None
    leads_only: bool
    members: tuple[Member, ...]
    cursor: AssignmentCursor | None = None


def skills_of(user: User | Member) -> set[str]:
    """The user's skills as a set of lower-case names (User.skills is a comma list)."""
    return {s.strip().lower() for s in (user.skills or "").split(",") if s.strip()}


def roster(team_key: str, leads_only: bool = False, ticket_id: int | None = None) -> Roster | None:
    """The team `team_key` and its active staff members (only its leads with `leads_only`);
    None when there is no such team.

    The team's cursor comes in the same query, locked on PostgreSQL as `_cursor` locks it; a team
    without a cursor row yet (its first task) is read again without it, and `choose_assignee`
    creates the row. With `ticket_id`, the member who had the ticket's earlier task in the team
    comes with their open-task count (`Member.open_tasks`), which `choose_assignee` checks
    against their capacity before giving them the new one.
    """
    dialect = db.session.get_bind().dialect.name
    earlier = _earlier_agent(ticket_id, team_key) if ticket_id is not None and not leads_only else None
    counted = earlier is not None
    params = {"team_key": team_key, **({"counted": earlier.user_id} if counted else {})}
    rows = db.session.execute(_roster_query(leads_only, dialect, True, counted), params).all()
    cursor = rows[0].AssignmentCursor if rows else None
    if not rows:
        rows = db.session.execute(_roster_query(leads_only, dialect, False, counted), params).all()
    if not rows:
        return None
    first = rows[0]
    members = tuple(
        Member(
            r.user_id, r.username, r.skills, r.capacity, bool(r.email and r.mail_notifications), r.open_tasks
        )
        for r in rows
        if r.user_id is not None
    )
    return Roster(first.team_id, first.team_key, first.strategy, leads_only, members, cursor)


@cache
def _roster_query(leads_only: bool, dialect: str, with_cursor: bool, counted: bool):
    """Built once (building a statement costs more than running this one).

    The earlier agent's count is a column only when there is one (`counted`). Always there, with
    a NULL member when not needed, it made PostgreSQL plan the query at every execution: the
    subquery's cost counts for every member in a plan made for any member, so PostgreSQL kept
    making a plan for the given one (without the subquery when NULL) instead of reusing one.
    """
    membership = TeamMember.team_id == Team.id
    if leads_only:
        membership = and_(membership, TeamMember.is_lead.is_(True))
    columns = [
        Team.id.label("team_id"),
        Team.key.label("team_key"),
        Team.strategy,
        User.id.label("user_id"),
        User.username,
        User.skills,
        User.capacity,
        User.email,
        User.mail_notifications,
        # (CASE: the count runs for that one member only)
        case((User.id == bindparam("counted", type_=Integer), _open_tasks()), else_=None).label("open_tasks")
        if counted
        else null().label("open_tasks"),
    ]
    query = db.select(*columns, *([AssignmentCursor] if with_cursor else ()))
    query = query.select_from(Team)
    if with_cursor:
        query = query.join(AssignmentCursor, AssignmentCursor.team_id == Team.id)
    query = (
        query.outerjoin(TeamMember, membership)
        .outerjoin(User, and_(User.id == TeamMember.user_id, User.active.is_(True), User.role != "customer"))
        .where(Team.key == bindparam("team_key"))
        .order_by(User.id)
    )
    if with_cursor:
        query = query.execution_options(populate_existing=True)
        if dialect == "postgresql":
            query = query.with_for_update(of=AssignmentCursor)
    return query


def choose_assignee(
    team_key: str,
    required_skill: str | None,
    now: datetime,
    ticket_id: int | None = None,
    leads_only: bool = False,
    team: Roster | None = None,
    exclude_user_id: int | None = None,
) -> Choice:
    """Pick the member of `team_key` who gets a new task, by the team's strategy.

    A ticket's later task in a team goes back to the member who got its earlier one there (the
    agent who asked the customer a question reviews the answer), while that member is still
    an active candidate below capacity; otherwise the strategy decides.

    Args:
        team_key: the task's team (its lane, or the team an assignment rule chose).
        required_skill: a skill the assignee must have, or None.
        now: the command's time (stamped on the team's cursor).
        ticket_id: the task's ticket, to keep it with the same agent; None to skip that.
        leads_only: only the team's leads are candidates (escalations), by the team's strategy.
        team: the team's roster when the caller has read it already (`roster(team_key, leads_only)`).
        exclude_user_id: a person who may not get the task (four eyes: who proposed what it checks).

    Returns:
        The choice; `user_id` is None when nobody fits (no such team, no active member,
        nobody with the skill, everyone at capacity).
    """
    if team is None or team.key != team_key or team.leads_only != leads_only:
        team = roster(team_key, leads_only)
    if team is None:
        return Choice(None, f"no team '{team_key}': open to its queue")
    strategy = team.strategy if team.strategy in STRATEGIES else "round_robin"
    members = [m for m in team.members if m.id != exclude_user_id]
    if not members and leads_only:
        return Choice(None, f"{strategy}: team {team_key} has no active lead; left in the team queue")
    if not members:
        return Choice(None, f"{strategy}: team {team_key} has no active members")
    skill = (required_skill or "").strip().lower()
    if skill:
        members = [m for m in members if skill in skills_of(m)]
        if not members:
            return Choice(
                None, f"{strategy}: nobody in {team_key} has skill '{skill}'; left in the team queue"
            )
    # Taken first (the roster's read took it already unless the team had no cursor yet):
    # concurrent choices in one team take turns.
    cursor = team.cursor or _cursor(team.id)
    earlier = _earlier_agent(ticket_id, team_key) if ticket_id is not None else None
    choice = _same_agent(earlier, members) if earlier is not None and not leads_only else None
    if choice is None:
        if strategy == "round_robin":
            choice = _round_robin(cursor.last_user_id or 0, members)
        else:
            choice = _least_loaded(strategy, team_key, members)
        if choice.user_id is not None and cursor.last_user_id != choice.user_id:
            cursor.last_user_id = choice.user_id
            cursor.updated_at = now
    if choice.user_id is not None and ticket_id is not None:
        if earlier is None:
            db.session.add(
                TicketAgent(ticket_id=ticket_id, team_key=team_key, user_id=choice.user_id, updated_at=now)
            )
        elif earlier.user_id != choice.user_id:
            earlier.user_id, earlier.updated_at = choice.user_id, now
    return choice


def ticket_opened(ticket_id: int) -> None:
    """Note that the ticket opened in this transaction: nobody else can have written its
    `ticket_agent` rows yet, so its assignments need not read them."""
    db.session.info.setdefault(_IN_SESSION, set()).add(ticket_id)


def ticket_agents_read(ticket_id: int, rows: list[TicketAgent]) -> None:
    """Note that `rows` are all the ticket's `ticket_agent` rows (read with the ticket, under its
    instance's lock, as `engine.runtime.store` does): its assignments need not read them again.

    A handover (`hand_over_tasks`) changes them without that lock: a row it deleted meanwhile
    makes this command's UPDATE of it find nothing (`StaleDataError`, and the command runs again),
    and an agent it deactivated is no longer in the roster read later, so the rule passes them by.
    """
    db.session.info.setdefault(_HELD, []).extend(rows)
    db.session.info.setdefault(_IN_SESSION, set()).add(ticket_id)


def _earlier_agent(ticket_id: int, team_key: str) -> TicketAgent | None:
    """Who got the ticket's earlier task in the team (`ticket_agent`), or None."""
    key = (ticket_id, team_key)
    if ticket_id not in db.session.info.get(_IN_SESSION, ()):
        return db.session.get(TicketAgent, key)
    # Opened in this transaction, or its rows read with it: they are in the session (added, flushed
    # or read).
    pending = (o for o in db.session.new if isinstance(o, TicketAgent) and (o.ticket_id, o.team_key) == key)
    return next(pending, None) or db.session.identity_map.get(identity_key(TicketAgent, key))


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_IN_SESSION, None)
        session.info.pop(_HELD, None)


def remember_agent(ticket_id: int, team_key: str, user_id: int, now: datetime) -> None:
    """Note that `user_id` works on the ticket in this team (claims and reassignments may call it)."""
    row = db.session.get(TicketAgent, (ticket_id, team_key))
    if row is None:
        db.session.add(TicketAgent(ticket_id=ticket_id, team_key=team_key, user_id=user_id, updated_at=now))
    else:
        row.user_id, row.updated_at = user_id, now


def open_task_counts(user_ids: list[int]) -> dict[int, int]:
    """How many open tasks each user holds (across all teams)."""
    if not user_ids:
        return {}
    rows = db.session.execute(_counts_query(), {"user_ids": list(user_ids)})
    return {user_id: count for user_id, count in rows}


@cache
def _counts_query():
    """Built once (each new task of a least-loaded team, or back to its earlier agent, asks)."""
    return (
        db.select(HumanTask.assignee_id, db.func.count(HumanTask.id))
        .where(HumanTask.assignee_id.in_(bindparam("user_ids", expanding=True)))
        .group_by(HumanTask.assignee_id)
    )


def _open_tasks():
    """A member's open tasks, as a column of the roster's query."""
    return db.select(db.func.count(HumanTask.id)).where(HumanTask.assignee_id == User.id).scalar_subquery()


def _same_agent(earlier: TicketAgent, members: list[Member]) -> Choice | None:
    agent = next((m for m in members if m.id == earlier.user_id), None)
    if agent is None:
        return None
    count = agent.open_tasks  # read with the roster; None when the roster was read without the ticket
    if count is None:
        count = open_task_counts([agent.id]).get(agent.id, 0)
    if count >= agent.capacity:
        return None
    return Choice(
        agent.id, f"same agent as before on this ticket → {agent.username}", agent.username, agent.wants_mail
    )


def _round_robin(last_user_id: int, members: list[Member]) -> Choice:
    chosen = next((m for m in members if m.id > last_user_id), members[0])
    return Choice(chosen.id, f"round_robin → {chosen.username}", chosen.username, chosen.wants_mail)


def _least_loaded(strategy: str, team_key: str, members: list[Member]) -> Choice:
    counts = open_task_counts([m.id for m in members])
    free = [m for m in members if m.capacity > 0 and counts.get(m.id, 0) < m.capacity]
    if not free:
        return Choice(None, f"{strategy}: everyone in {team_key} is at capacity; left in the team queue")
    chosen = min(free, key=lambda m: (Fraction(counts.get(m.id, 0), m.capacity), m.id))
    load = f"{counts.get(chosen.id, 0)}/{chosen.capacity} open"
    return Choice(chosen.id, f"{strategy} → {chosen.username} ({load})", chosen.username, chosen.wants_mail)


def _cursor(team_id: int) -> AssignmentCursor:
    """The team's cursor row, created if missing, locked until commit on PostgreSQL.

    The lock makes concurrent commands of one team take turns, so two of them cannot pick the
    same member from the same counts; SQLite commands are serialized by BEGIN IMMEDIATE already.
    """
    dialect = db.session.get_bind().dialect.name
    query = _cursor_query(dialect)
    cursor = db.session.execute(query, {"team_id": team_id}).scalar()
    if cursor is not None:
        return cursor
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(AssignmentCursor).values(team_id=team_id).on_conflict_do_nothing())
    return db.session.execute(query, {"team_id": team_id}).scalar_one()


@cache
def _cursor_query(dialect: str):
    """Built once per dialect (every assignment reads the cursor)."""
    query = (
        db.select(AssignmentCursor)
        .where(AssignmentCursor.team_id == bindparam("team_id"))
        .execution_options(populate_existing=True)
    )
    return query.with_for_update() if dialect == "postgresql" else query
