"""The list of tickets staff look through: filters (shared by the dashboard page, its CSV export
and `GET /api/v1/tickets`), their SQL, the pages and counts, the statuses of a type, and staff
search by ticket number, customer or order number.

Read-only: no commits. Scopes come from app.access (`ticket_condition`).
"""

from app.ticket_list.filters import SLA_STATES, SORTS, STATES, TicketFilters, parse_filters
from app.ticket_list.listing import PAGE_SIZE, TicketRow, csv_lines, list_page, status_counts
from app.ticket_list.statuses import status_label, statuses_of

__all__ = [
    "PAGE_SIZE",
    "SLA_STATES",
    "SORTS",
    "STATES",
    "TicketFilters",
    "TicketRow",
    "csv_lines",
    "list_page",
    "parse_filters",
    "status_counts",
    "status_label",
    "statuses_of",
]
