"""Who gets a new user task, and how urgent a new ticket is.

Rules first, then fallbacks: the analysts' DMN decisions (`processes/assignment.dmn`,
`processes/priority.dmn`, evaluated by `rules`) may pick a task's team and required skill and a
ticket's priority; the team's strategy (`app.assignment`) picks the agent; `priority_for` sets
the priority when no priority rule is deployed or matches. Every choice is written to the ticket
history with the rule that made it.

`assign_new_task` is called by `runtime.store.save` for every user task that opens, inside the
command's transaction; `initial_priority` and `record_priority` by `start_process`.
"""

import re

from flask import current_app

from app.assignment import choose_assignee, priority_for, roster
from app.clock import utcnow
from app.engine.commands.agent_mail import mail_task_assigned
from app.engine.errors import StepFailed
from app.engine.rules import dmn
from app.engine.runtime.history import history, pending
from app.extensions import db
from app.models import PRIORITIES, HistoryEvent, HumanTask, Team, Ticket, User


def ticket_inputs(ticket_type: str, profile: dict, data: dict) -> dict:
    """The names a priority or assignment rule may use, each always present.

    Strings default to "" and numbers to 0, so a cell like `> 500` never meets None.
    `amount` is a return's amount or a credit request's requested_amount.
    """
    data = data if isinstance(data, dict) else {}
    amount = data.get("amount", data.get("requested_amount"))
    return {
        "ticket_type": ticket_type or "",
        "severity": _text(data.get("severity")),
        "category": _text(data.get("category")),
        "amount": _number(amount),
        "tier": _text(profile.get("tier")),
        "order_count": _number(profile.get("order_count")),
        "tenure_months": _number(profile.get("tenure_months")),
        "engagement": _text(profile.get("engagement")),
        "customer": dict(profile),
        "data": dict(data),
    }


def initial_priority(ticket_type: str, profile: dict, data: dict) -> tuple[str, str]:
    """The priority of a new ticket and what set it.

    Args:
        ticket_type: the process key.
        profile: the customer's profile (`Customer.profile()`).
        data: the start form's fields.

    Returns:
        (priority, source): source is "rule priority#3 (critical complaint)" when a rule of the
        deployed priority decision matched, else "default rules".

    Raises:
        StepFailed: a rule failed, or gave a value that is not a priority.
    """
    decision = dmn.decide_rule("priority", ticket_inputs(ticket_type, profile, data))
    value = decision.outputs.get("priority") if decision is not None else None
    if value in (None, ""):
        return priority_for(ticket_type, profile, data), "default rules"
    if value not in PRIORITIES:
        raise StepFailed(
            "priority",
            f"priority: rule {decision.label} gave {value!r}; expected one of {', '.join(PRIORITIES)}",
        )
    return value, f"rule {decision.describe()}"


def record_priority(ticket: Ticket, instance_id: int, priority: str, source: str, actor: str | None) -> None:
    """Write 'priority set to urgent by rule priority#1 (critical complaint)' to the history."""
    history(
        "priority_set",
        ticket_id=ticket.id,
        instance_id=instance_id,
        actor=actor,
        element_id="priority",
        data={"priority": priority, "rule": source, "message": f"priority set to {priority} by {source}"},
    )


OWNER_TOKEN = re.compile(r"^\s*(user|group)\s*\(\s*([^()]+?)\s*\)\s*$", re.IGNORECASE)
VARIABLE = re.compile(r"^\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}$")


def resolve_owner(owner: dict | None, data: dict) -> tuple[str, str] | None:
    """("team", key) or ("user", username) named by a task's potentialOwner / humanPerformer.

    The formal expression is a name, `user(name)`, `group(name)`, a comma-separated list of
    those (the first that exists wins), or `${variable}` naming process data that holds one.
    """
    if not owner:
        return None
    for part in str(owner.get("expression") or "").split(","):
        part = part.strip()
        variable = VARIABLE.match(part)
        if variable:
            part = str(data.get(variable[1]) or "").strip() if isinstance(data, dict) else ""
        token = OWNER_TOKEN.match(part)
        kind, name = (token[1].lower(), token[2].strip()) if token else (None, part)
        if not name:
            continue
        if (
            kind in (None, "group")
            and db.session.execute(db.select(Team.id).where(Team.key == name)).scalar() is not None
        ):
            return "team", name
        if (
            kind in (None, "user")
            and db.session.execute(
                db.select(User.id).where(
                    User.username == name, User.active.is_(True), User.role != "customer"
                )
            ).scalar()
            is not None
        ):
            return "user", name
    return None


def assign_new_task(
    row: HumanTask,
    ticket: Ticket | None,
    actor: str | None,
    to_lead: bool = False,
    owner: tuple[str, str] | None = None,
    four_eyes_of: str | None = None,
) -> None:
    """Set `row.team` (rules may override the lane), `row.required_skill` and `row.assignee_id`.

    Tasks outside any lane stay unassigned and open to every agent; a task whose lane names no
    team goes to the fallback team `DEFAULT_TEAM`; a `potentialOwner` / `humanPerformer` naming
    a team or a user decides before the lane. A task whose diagram sets
    the property `assignToLead="true"` (an escalation) goes to one of the team's leads. A task
    with `fourEyesOf="<task id>"` (a second approval) never goes to whoever completed that task
    on this instance: `row.excluded_user_id` keeps them out of it for good (the task commands
    refuse them). Records the assignment and the rules that made it in the ticket history.

    Raises:
        StepFailed: an assignment rule failed to evaluate.
    """
    lane = row.team
    steps = []
    if four_eyes_of:
        row.excluded_user_id = completed_by(row.ticket_id, row.instance_id, four_eyes_of)
        if row.excluded_user_id is not None:
            steps.append(f"four eyes: not whoever completed {four_eyes_of}")
    if owner is not None and owner[0] == "team":
        row.team = owner[1]
        steps.append(f"potentialOwner names team {owner[1]}")
    elif owner is not None and owner[0] == "user":
        _assign_named_user(row, ticket, actor, owner[1], lane)
        return
    elif row.team is None:
        return  # outside any lane: unassigned and open to every agent
    decision = dmn.decide_rule("assignment", _assignment_inputs(row, ticket))
    if decision is None:
        steps.append("no assignment rule matched")
    else:
        steps.append(_apply_decision(row, decision))
    team = roster(row.team, leads_only=to_lead, ticket_id=ticket.id if ticket else None)
    if team is None:
        fallback = current_app.config["DEFAULT_TEAM"]
        steps.append(f"lane {row.team} names no team: fallback team {fallback}")
        row.team = fallback
    now = utcnow()
    choice = choose_assignee(
        row.team,
        row.required_skill,
        now,
        ticket.id if ticket else None,
        leads_only=to_lead,
        team=team,
        exclude_user_id=row.excluded_user_id,
    )
    row.assignee_id = choice.user_id
    if choice.wants_mail is not False:  # False: the strategy knows they get no task mail
        mail_task_assigned(row, choice.user_id, actor)
    steps.append(choice.rule)
    _record_assignment(row, ticket, actor, lane, choice.username, "; ".join(steps), now)


def completed_by(ticket_id: int | None, instance_id: int, element_id: str) -> int | None:
    """The user who completed the user task `element_id` last on the instance (this command's
    own history first, then the stored history); None when nobody (or no person) did."""
    username = next(
        (
            r["actor"]
            for r in reversed(pending())
            if r["kind"] == "task_completed"
            and r["instance_id"] == instance_id
            and r["element_id"] == element_id
        ),
        None,
    )
    if username is None:
        username = db.session.execute(
            db.select(HistoryEvent.actor)
            .where(
                HistoryEvent.ticket_id == ticket_id,  # its index; the instance narrows it
                HistoryEvent.instance_id == instance_id,
                HistoryEvent.kind == "task_completed",
                HistoryEvent.element_id == element_id,
            )
            .order_by(HistoryEvent.id.desc())
            .limit(1)
        ).scalar()
    if not username:
        return None
    return db.session.execute(db.select(User.id).where(User.username == username)).scalar()


def _record_assignment(
    row: HumanTask,
    ticket: Ticket | None,
    actor: str | None,
    lane: str | None,
    assignee: str | None,
    rule: str,
    now,
) -> None:
    """The `task_assigned` history row: team, lane, skill, assignee and the rules that chose them."""
    history(
        "task_assigned",
        ticket_id=ticket.id if ticket else None,
        instance_id=row.instance_id,
        actor=actor,
        element_id=row.name,
        element_name=row.title,
        task_id=row.id,
        at=now,
        data={
            "team": row.team,
            "lane": lane,
            "skill": row.required_skill,
            "assignee": assignee,
            "rule": rule,
        },
    )


def _assign_named_user(
    row: HumanTask, ticket: Ticket | None, actor: str | None, username: str, lane: str | None
) -> None:
    """The diagram names the performer: the task goes to that user (in their first team)."""
    user = db.session.execute(db.select(User).where(User.username == username)).scalar_one()
    teams = user.team_keys
    if row.team not in teams:
        row.team = teams[0] if teams else current_app.config["DEFAULT_TEAM"]
    row.assignee_id = user.id
    mail_task_assigned(row, user.id, actor)
    _record_assignment(
        row, ticket, actor, lane, user.username, f"the diagram names {user.username} as performer", utcnow()
    )


def _apply_decision(row: HumanTask, decision: dmn.Decision) -> str:
    team = _text(decision.outputs.get("team")).strip()
    skill = _text(decision.outputs.get("skill")).strip()
    said = []
    if team and team != row.team:
        if db.session.execute(db.select(Team.id).where(Team.key == team)).scalar() is None:
            said.append(f"team {team} does not exist, kept {row.team}")
        else:
            row.team = team
            said.append(f"team {team}")
    if skill:
        row.required_skill = skill
        said.append(f"skill {skill}")
    return f"{decision.label} → {', '.join(said) or f'team {row.team}'}"


def _assignment_inputs(row: HumanTask, ticket: Ticket | None) -> dict:
    profile = ticket.customer.profile() if ticket is not None and ticket.customer is not None else {}
    inputs = ticket_inputs(ticket.type if ticket else "", profile, ticket.data if ticket else {})
    inputs.update(
        lane=row.team or "",
        priority=row.priority or "",
        task=row.name,
        required_skill=row.required_skill or "",
    )
    return inputs


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _number(value) -> int | float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0
