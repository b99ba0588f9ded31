"""Managers' pages: every ticket and instance, SLAs, workload, satisfaction and incidents.

`/dashboard` (roles manager and admin; team leads see their teams). Each page lives in a module
of its own; importing them here registers their views on `bp`.
"""

from app.web.dashboard import (  # noqa: F401
    alerts,
    heatmap,
    incidents,
    overview,
    retry,
    ticket,
    ticket_migration,
    tickets,
)
from app.web.dashboard.blueprint import bp

__all__ = ["bp"]
