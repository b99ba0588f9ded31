"""Tables only: no commits and no SpiffWorkflow here. Importing this package registers them all."""

from app.models.alerts import ALERT_METRICS, AlertEvent, AlertRule
from app.models.assignment import AssignmentCursor, TicketAgent
from app.models.attachment import MAX_ATTACHMENT_BYTES, Attachment
from app.models.business import OUTBOX_STATES, LedgerEntry, OutboxMessage, PriorityChange, StockMovement
from app.models.conversation import CANNED_BODY_MAX, CANNED_NAME_MAX, CannedReply
from app.models.counts import TicketDayCount, TicketFieldCount
from app.models.feedback import Feedback, FeedbackRequest
from app.models.history import HistoryEvent
from app.models.inbound import INBOUND_OUTCOMES, InboundMail
from app.models.limits import LIMIT_ROLES, ApprovalLimit
from app.models.migration_batch import MigrationBatch, MigrationBatchItem
from app.models.people import (
    ROLES,
    STAFF,
    ApiToken,
    Customer,
    LoginAttempt,
    SavedFilter,
    Team,
    TeamMember,
    User,
)
from app.models.repository import Deployment, FormDefinition, ProcessDefinition
from app.models.runtime import (
    HumanTask,
    Incident,
    Job,
    MessageSubscription,
    ProcessInstance,
    Timer,
)
from app.models.sla import BusinessCalendar, BusinessHoliday, SlaPolicy
from app.models.stats import DailyStat, DurationStat, ElementStat, TicketCount, TicketStat
from app.models.studio import ProcessType, StudioDraft
from app.models.ticket import (
    FIELD_NAME_MAX,
    FIELD_VALUE_MAX,
    FINISHED_STATUSES,
    PRIORITIES,
    UNFINISHED,
    Comment,
    Ticket,
    TicketField,
    field_value,
)
from app.models.webhooks import (
    DELIVERY_STATES,
    WEBHOOK_EVENTS,
    WEBHOOK_URL_MAX,
    WebhookDelivery,
    WebhookSubscription,
)

__all__ = [
    "INBOUND_OUTCOMES",
    "InboundMail",
    "MigrationBatch",
    "MigrationBatchItem",
    "ALERT_METRICS",
    "ApprovalLimit",
    "LIMIT_ROLES",
    "AlertEvent",
    "AlertRule",
    "MAX_ATTACHMENT_BYTES",
    "AssignmentCursor",
    "Attachment",
    "ROLES",
    "STAFF",
    "FINISHED_STATUSES",
    "PRIORITIES",
    "UNFINISHED",
    "ApiToken",
    "Comment",
    "CannedReply",
    "CANNED_BODY_MAX",
    "CANNED_NAME_MAX",
    "Customer",
    "DailyStat",
    "DurationStat",
    "ElementStat",
    "Feedback",
    "FeedbackRequest",
    "HistoryEvent",
    "HumanTask",
    "Incident",
    "Job",
    "LedgerEntry",
    "LoginAttempt",
    "MessageSubscription",
    "OutboxMessage",
    "OUTBOX_STATES",
    "Deployment",
    "FormDefinition",
    "PriorityChange",
    "SavedFilter",
    "ProcessDefinition",
    "ProcessInstance",
    "ProcessType",
    "StudioDraft",
    "StockMovement",
    "Team",
    "TeamMember",
    "Ticket",
    "TicketCount",
    "TicketField",
    "TicketFieldCount",
    "TicketDayCount",
    "FIELD_NAME_MAX",
    "FIELD_VALUE_MAX",
    "field_value",
    "TicketAgent",
    "TicketStat",
    "Timer",
    "User",
    "BusinessCalendar",
    "BusinessHoliday",
    "SlaPolicy",
    "DELIVERY_STATES",
    "WEBHOOK_EVENTS",
    "WEBHOOK_URL_MAX",
    "WebhookDelivery",
    "WebhookSubscription",
]
