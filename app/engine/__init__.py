"""THE door to process state: the only importer of SpiffWorkflow and the only committer.

Views, the API, the worker and the CLI call these commands and read models; nothing else
changes a process. Every command runs in one transaction (`runtime/runner.py`). This module is
the engine's whole public surface: the command functions and the errors, the hook
(`register_checker`) through which the app says who may run a command for whom, and the hook
(`register_observer`) through which it times commands (the metrics' latency histogram). The
packages behind it are private:

    commands/     one module per family: tickets, tasks (and handover), messages, comments, feedback, timers, jobs,
                  incidents (and data_edit, the data a retry may fix), deploy, migration (batches,
                  rollback), mail_in (received e-mail; mail_tickets, agent_mail); states (reads for viewers)
    runtime/      runner (transaction, retries), store (load, save), history, steps, projections
                  (a pure diff), compaction, leases (claiming due rows)
    spiff/        our SpiffWorkflow: parser, serializer, script engine, catches, timers, spec cache,
                  message correlation
    expressions/  the safe evaluator every diagram expression runs through
    diagrams/     XML safety, deploy checks, uploads, bundles, processes, forms
    rules/        DMN evaluation, assignment of new tasks and priority of new tickets
    testing/      analysts' process tests (`<key>.tests.json`) run in a rolled-back transaction
"""

from app.engine.commands.claims import release_claims
from app.engine.commands.comments import (
    NOTE_MAX,
    add_comment,
    add_internal_note,
    answer_question,
    read_customer_message,
)
from app.engine.commands.customer_messages import READ_TASK, reopen_days
from app.engine.commands.data_edit import check_edit, data_changes, fingerprint, incident_data
from app.engine.commands.deploy import check_files, deploy, deploy_bundle, latest_definition
from app.engine.commands.feedback import record_feedback
from app.engine.commands.handover import hand_over_tasks
from app.engine.commands.incidents import record_incident, retry_incident
from app.engine.commands.jobs import claim_jobs, complete_job, fail_job
from app.engine.commands.mail_in import discard_held_mail, open_held_mail, receive_customer_mail
from app.engine.commands.messages import deliver_correlated_message, deliver_message
from app.engine.commands.migration import migrate_instance, migration_check, migration_dry_run
from app.engine.commands.migration_batches import migration_batch, run_migration_chunk, start_migration_batch
from app.engine.commands.migration_rollback import rollback_check, rollback_migration
from app.engine.commands.states import diagram_xml, element_states, process_data
from app.engine.commands.tasks import (
    claim_task,
    closed_reason,
    complete_task,
    reassign_task,
    release_task,
    task_data,
)
from app.engine.commands.tickets import cancel_instance, instance_of_ticket, start_process, waiting_of
from app.engine.commands.timers import (
    TimerBatchFailed,
    claim_due_timers,
    fire_timer,
    fire_timers,
    move_timers,
    next_wakeup,
)
from app.engine.commands.types import is_retired, retire_type, retired_types
from app.engine.commands.versions import (
    check_bundle_files,
    definition_files,
    deployed_decision,
    diff_bundles,
    retry_defaults,
    version_files,
)
from app.engine.diagrams.trial import form_errors, preview_instructions, timer_next_due, try_decision
from app.engine.errors import (
    AlreadyAnswered,
    AmbiguousMessage,
    Conflict,
    DiagramRejected,
    EngineError,
    Forbidden,
    InvalidData,
    NotFound,
    Problem,
    StepFailed,
    TaskNotOpen,
)
from app.engine.runtime.checks import CommandChecker, register_checker
from app.engine.runtime.observers import register_observer
from app.engine.runtime.runner import init_sqlite, run_command
from app.engine.runtime.store import open_task_for_command, restore_round_trip
from app.engine.testing.runner import run_process_tests, tested_processes
from app.engine.testing.schema import is_tests_file, parse_tests, tests_file_of

__all__ = [
    "receive_customer_mail",
    "open_held_mail",
    "discard_held_mail",
    "run_process_tests",
    "tested_processes",
    "is_tests_file",
    "parse_tests",
    "tests_file_of",
    "migrate_instance",
    "migration_batch",
    "migration_check",
    "migration_dry_run",
    "rollback_check",
    "rollback_migration",
    "run_migration_chunk",
    "start_migration_batch",
    "move_timers",
    "process_data",
    "element_states",
    "diagram_xml",
    "incident_data",
    "fingerprint",
    "data_changes",
    "check_edit",
    "AlreadyAnswered",
    "AmbiguousMessage",
    "CommandChecker",
    "Conflict",
    "DiagramRejected",
    "EngineError",
    "Forbidden",
    "InvalidData",
    "NotFound",
    "Problem",
    "StepFailed",
    "TaskNotOpen",
    "add_comment",
    "add_internal_note",
    "read_customer_message",
    "reopen_days",
    "READ_TASK",
    "NOTE_MAX",
    "answer_question",
    "cancel_instance",
    "check_bundle_files",
    "check_files",
    "definition_files",
    "deployed_decision",
    "diff_bundles",
    "is_retired",
    "retire_type",
    "retry_defaults",
    "retired_types",
    "version_files",
    "claim_due_timers",
    "claim_jobs",
    "release_claims",
    "claim_task",
    "closed_reason",
    "complete_job",
    "complete_task",
    "deliver_correlated_message",
    "deliver_message",
    "deploy",
    "deploy_bundle",
    "fail_job",
    "hand_over_tasks",
    "form_errors",
    "preview_instructions",
    "timer_next_due",
    "try_decision",
    "fire_timer",
    "fire_timers",
    "TimerBatchFailed",
    "init_sqlite",
    "instance_of_ticket",
    "latest_definition",
    "next_wakeup",
    "reassign_task",
    "record_feedback",
    "record_incident",
    "register_checker",
    "register_observer",
    "release_task",
    "restore_round_trip",
    "open_task_for_command",
    "retry_incident",
    "run_command",
    "start_process",
    "task_data",
    "waiting_of",
]
