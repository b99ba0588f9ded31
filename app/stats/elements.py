"""Per-element statistics of one process version over a period: the heatmap and its API.

Completed, cancelled and incidents come from `element_stat` (days of the period), the median
and p90 time spent from its completions per duration bucket (app/stats/buckets.py), and `active`
(tokens there now: open tasks, waiting timers, jobs and message catches) from the runtime
tables, which hold only what is open, matched against the version's open instances.
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
from app.models.runtime import OPEN_INSTANCE_STATUSES
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

    Only a running instance (or one with an incident) holds tokens: the version's open instances
    come from `ix_process_instance_status_definition` alone (a few thousand ids, not the hundreds
    of thousands of instances the version ran), and each table of what is open is matched
    against them (on PostgreSQL a hash of the ids; each open row's instance read by primary key
    took 0.4 s for 43,000 open tasks at a million tickets)."""
    open_instances = select(ProcessInstance.id).where(
        ProcessInstance.status.in_(OPEN_INSTANCE_STATUSES), ProcessInstance.definition_id == definition_id
    )
    found = []
    for model, column in (
        (HumanTask, HumanTask.name),
        (Timer, Timer.element_id),
        (Job, Job.element_id),
        (MessageSubscription, MessageSubscription.element_id),
    ):
        found += db.session.execute(
            select(column, func.count()).where(model.instance_id.in_(open_instances)).group_by(column)
        ).all()
    return found
