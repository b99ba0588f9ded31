"""Per-element statistics of one process version over a period: the heatmap and its API.

Completed, cancelled and incidents come from `element_stat` (days of the period), the median
and p90 time spent from its completions per duration bucket (app/stats/buckets.py), and `active`
(tokens there now: open tasks, waiting timers, jobs and message catches) from the runtime
tables, which hold only what is open, joined to the instance by primary key.
"""

from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    ElementStat,
    HumanTask,
    Job,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
    SlaPolicy,
    Timer,
)
from app.stats.buckets import quantile


def visible_types(scope, role: str) -> set[str] | None:
    """The process keys whose figures `scope` may see: None for all (analysts, admins, anyone who
    sees everything), else the types whose SLA policy names a team the person sees whole (a
    ticket's team is its type's team, so a type's figures are that team's)."""
    if role in ("analyst", "admin") or scope.sees_all:
        return None
    return set(
        db.session.execute(
            select(SlaPolicy.ticket_type).where(SlaPolicy.team_key.in_(scope.lead_keys)).distinct()
        ).scalars()
    )


def definition_of(key: str, version: int | None) -> ProcessDefinition | None:
    """The BPMN definition `key` at `version` (the latest when None)."""
    query = select(ProcessDefinition).where(ProcessDefinition.key == key, ProcessDefinition.kind == "bpmn")
    if version is not None:
        query = query.where(ProcessDefinition.version == version)
    return db.session.execute(query.order_by(ProcessDefinition.version.desc()).limit(1)).scalar()


def element_statistics(definition: ProcessDefinition, start: date, end: date) -> list[dict]:
    """One entry per element seen: {element_id, active, completed, cancelled, incidents,
    median_seconds, p90_seconds}, by element id."""
    key, version = definition.key, definition.version
    found: dict[str, dict] = {}

    def entry(element_id: str) -> dict:
        return found.setdefault(
            element_id,
            {
                "element_id": element_id,
                "active": 0,
                "completed": 0,
                "cancelled": 0,
                "incidents": 0,
                "median_seconds": None,
                "p90_seconds": None,
            },
        )

    rows = db.session.execute(
        select(
            ElementStat.element_id,
            ElementStat.bucket,
            func.sum(ElementStat.completed),
            func.sum(ElementStat.cancelled),
            func.sum(ElementStat.incidents),
        )
        .where(
            ElementStat.process_key == key,
            ElementStat.version == version,
            ElementStat.day >= start,
            ElementStat.day <= end,
        )
        .group_by(ElementStat.element_id, ElementStat.bucket)
    ).all()
    buckets: dict[str, dict[int, int]] = {}
    for element_id, bucket, completed, cancelled, incidents in rows:
        e = entry(element_id)
        e["completed"] += int(completed or 0)
        e["cancelled"] += int(cancelled or 0)
        e["incidents"] += int(incidents or 0)
        if bucket >= 0 and completed:
            buckets.setdefault(element_id, {})[bucket] = int(completed)
    for element_id, counts in buckets.items():
        e = entry(element_id)
        median, p90 = quantile(counts, 0.5), quantile(counts, 0.9)
        e["median_seconds"] = None if median is None else round(median)
        e["p90_seconds"] = None if p90 is None else round(p90)
    for element_id, count in _active(definition.id):
        if (
            ":" not in element_id
        ):  # no BPMN id has a colon: the engine's own tasks ("Read the customer's message")
            entry(element_id)["active"] += int(count)
    return [found[k] for k in sorted(found)]


def _active(definition_id: int) -> list[tuple[str, int]]:
    """(element id, tokens waiting there) from the tables of what is open, one query each.

    Each open row's instance is read by primary key (a scalar subquery, which no planner turns
    into a join): the cost follows what is open, not the version's instances (a join would be
    planned from the hundreds of thousands of instances a version ran, most of them finished)."""
    found = []
    for model, column in (
        (HumanTask, HumanTask.name),
        (Timer, Timer.element_id),
        (Job, Job.element_id),
        (MessageSubscription, MessageSubscription.element_id),
    ):
        of_instance = (
            select(ProcessInstance.definition_id)
            .where(ProcessInstance.id == model.instance_id)
            .correlate(model)
            .scalar_subquery()
        )
        found += db.session.execute(
            select(column, func.count()).where(of_instance == definition_id).group_by(column)
        ).all()
    return found
