"""Runtime state: process instances and the projections the engine rebuilds after every command."""

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.ticket import priority_rank
from app.models.types import JSONType, UTCDateTime

INSTANCE_STATUSES = ("running", "completed", "cancelled", "incident")
OPEN_INSTANCE_STATUSES = ("running", "incident")  # the instances that may hold tokens


class ProcessInstance(db.Model):
    __tablename__ = "process_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="running")
    # The serialized workflow without its spec (the spec comes from the definition).
    workflow: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow)
    ended_at = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": version}
    # A version's open instances, from the index alone (the heatmap's and statistics' tokens).
    __table_args__ = (Index("ix_process_instance_status_definition", "status", "definition_id", "id"),)


def _rank_default(context) -> int:
    return priority_rank(context.get_current_parameters().get("priority") or "normal")


class HumanTask(db.Model):
    """An open user task: one inbox row. The id is the SpiffWorkflow task id."""

    __tablename__ = "human_task"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))  # BPMN element id
    title: Mapped[str] = mapped_column(String(300))
    team: Mapped[str | None] = mapped_column(String(64))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    form_name: Mapped[str | None] = mapped_column(String(200))
    required_skill: Mapped[str | None] = mapped_column(String(64))
    instructions: Mapped[str | None] = mapped_column(Text)
    # Copies of the ticket's priority and SLA due time, kept in step by app.engine.runtime.ticket_copies,
    # so the inbox sorts by them from an index of this table instead of sorting every task of a view.
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    # 0: urgent ... 3: low (app.models.ticket.priority_rank)
    priority_rank: Mapped[int] = mapped_column(SmallInteger, default=_rank_default, server_default="2")
    sla_due_at = mapped_column(UTCDateTime)
    # Copies that the inbox filters by (status, type, customer, SLA state) without joining each task
    # of a view to its ticket: the ticket's type, customer, status, at-risk moment and first-response
    # due time, and its stat's first response (ticket_stat.first_response_at), kept in step the same way.
    ticket_type: Mapped[str | None] = mapped_column(String(64))
    # The ticket's customer (no foreign key of its own: the ticket's holds; it never changes).
    customer_id: Mapped[int | None] = mapped_column()
    ticket_status: Mapped[str | None] = mapped_column(String(32))
    sla_at_risk_at = mapped_column(UTCDateTime)
    first_response_due_at = mapped_column(UTCDateTime)
    first_responded_at = mapped_column(UTCDateTime)
    due_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    # Four eyes: the person who did the step this task checks may not claim or complete it.
    excluded_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    __table_args__ = (
        # Counting a team's tasks with a filter (the inbox's counts): covering for the customer, priority,
        # status and type filters (index-only counts), and in customer order, so SQLite reads the
        # customers of a name filter in the order of their table instead of jumping around it.
        Index(
            "ix_human_task_team_customer",
            "team",
            "assignee_id",
            "customer_id",
            "priority_rank",
            "ticket_status",
            "ticket_type",
        ),
        # The inbox's "new" badge: the few tasks that arrived since the person last looked.
        Index("ix_human_task_created", "created_at"),
    )


# The inbox lists tasks by due date with undated ones last, for a team or for everyone: these
# let both databases read a page in index order instead of sorting every task of the view.
# The ticket status last: a team's page filtered by status reads the index alone, however deep.
Index(
    "ix_human_task_team_due_order",
    HumanTask.team,
    HumanTask.due_at.is_(None),
    HumanTask.due_at,
    HumanTask.created_at,
    HumanTask.id,
    HumanTask.ticket_status,
)
# A team's queue (assignee_id NULL) and a person's own tasks, in the same order: a page of a view is
# read from one of these ranges (or merged from several: app/web/inbox/queries.py `_page_ids`).
Index(
    "ix_human_task_team_assignee_order",
    HumanTask.team,
    HumanTask.assignee_id,
    HumanTask.due_at.is_(None),
    HumanTask.due_at,
    HumanTask.created_at,
    HumanTask.id,
)
Index(
    "ix_human_task_assignee_order",
    HumanTask.assignee_id,
    HumanTask.due_at.is_(None),
    HumanTask.due_at,
    HumanTask.created_at,
    HumanTask.id,
)
# The inbox sorted by priority or by SLA due time, for a team lead's team or for everyone.
_THEN_DUE = (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id)
Index("ix_human_task_priority_order", HumanTask.priority_rank, *_THEN_DUE)
Index("ix_human_task_team_priority_order", HumanTask.team, HumanTask.priority_rank, *_THEN_DUE)
Index("ix_human_task_sla_order", HumanTask.sla_due_at.is_(None), HumanTask.sla_due_at, *_THEN_DUE)
Index(
    "ix_human_task_team_sla_order",
    HumanTask.team,
    HumanTask.sla_due_at.is_(None),
    HumanTask.sla_due_at,
    *_THEN_DUE,
)
Index(
    "ix_human_task_due_order",
    HumanTask.due_at.is_(None),
    HumanTask.due_at,
    HumanTask.created_at,
    HumanTask.id,
)


class Timer(db.Model):
    """A waiting timer event with its exact due time. The id is the SpiffWorkflow task id."""

    __tablename__ = "timer"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(128))
    due_at = mapped_column(UTCDateTime, index=True)
    lease_until = mapped_column(UTCDateTime)


class Job(db.Model):
    """A pending service-task call, claimed by a worker with a lease."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(128))
    operator: Mapped[str] = mapped_column(String(128))
    params = mapped_column(JSONType, default=dict)
    # <instance>:<task id>: handlers that move money key their ledger rows by it.
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    # pending | running | incident
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    # The retry policy of its service task (the engine's RetryPolicy, from spiffworkflow:retry):
    # tries in all, and the wait after failed try n: min(max_interval, initial * base ** (n - 1)).
    max_attempts: Mapped[int] = mapped_column(default=3)
    backoff_base: Mapped[float] = mapped_column(default=2.0)
    initial_interval: Mapped[float] = mapped_column(default=2.0, server_default="2")  # seconds
    max_interval: Mapped[float] = mapped_column(default=3600.0, server_default="3600")  # seconds
    non_retryable = mapped_column(JSONType, default=list)  # error kinds (class names) never retried
    next_run_at = mapped_column(UTCDateTime, default=utcnow)
    lease_until = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_job_status_next_run", "status", "next_run_at"),)


class MessageSubscription(db.Model):
    """A message a waiting instance accepts. The id is the catching task's id."""

    __tablename__ = "message_subscription"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    name: Mapped[str] = mapped_column(String(128))
    element_id: Mapped[str] = mapped_column(String(128))
    # What the waiting instance expects of a message's correlation keys ({key: {property: value}})
    # and the same as canonical JSON text, so a message without a ticket id finds it by index.
    correlations = mapped_column(JSONType)
    correlation_key: Mapped[str | None] = mapped_column(String(512))
    created_at = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_message_subscription_ticket_name", "ticket_id", "name"),
        Index("ix_message_subscription_name_correlation", "name", "correlation_key"),
    )


class Incident(db.Model):
    """A step that failed for good (retries exhausted, a broken expression): needs a person."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    timer_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # job | timer | engine
    message: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    resolved_at = mapped_column(UTCDateTime, index=True)

    # A ticket's open incidents (the ticket list's state of each row, and its state filter).
    __table_args__ = (Index("ix_incident_ticket_resolved", "ticket_id", "resolved_at"),)
