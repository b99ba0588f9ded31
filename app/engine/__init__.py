"""THE door to process state: the only importer of SpiffWorkflow and the only committer.

Views, the API and the worker call these commands and read models; nothing else changes a
process. Every command runs in one transaction (see runner.py).
"""

from app.engine.correlation import AmbiguousMessage
from app.engine.deploy import check_files, deploy, deploy_bundle, latest_definition
from app.engine.errors import (
    Conflict,
    DiagramRejected,
    EngineError,
    InvalidData,
    NotFound,
    Problem,
    StepFailed,
    TaskNotOpen,
)
from app.engine.events import (
    claim_due_timers,
    deliver_correlated_message,
    deliver_message,
    fire_timer,
    next_wakeup,
    waiting_of,
)
from app.engine.jobs import claim_jobs, complete_job, fail_job, record_incident, retry_incident
from app.engine.runner import init_sqlite, run_command
from app.engine.tasks import claim_task, closed_reason, complete_task, reassign_task, release_task, task_data
from app.engine.tickets import cancel_instance, instance_of_ticket, start_process

__all__ = [
    "AmbiguousMessage", "Conflict", "DiagramRejected", "EngineError", "InvalidData", "NotFound",
    "Problem", "StepFailed", "TaskNotOpen", "cancel_instance", "check_files", "claim_due_timers",
    "claim_jobs", "claim_task", "closed_reason", "complete_job", "complete_task", "deliver_correlated_message",
    "deliver_message", "deploy", "deploy_bundle", "fail_job", "fire_timer", "init_sqlite",
    "instance_of_ticket", "latest_definition", "next_wakeup", "reassign_task", "record_incident",
    "release_task", "retry_incident", "run_command", "start_process", "task_data", "waiting_of",
]
