"""The dashboard's figures: pre-aggregated counts kept by the engine, and the functions that read them.

- `record.py`: turns a command's history rows into increments of `ticket_stat`, `daily_stat`,
  `duration_stat` and `element_stat` (app/models/stats.py), written with one
  upsert per table in the command's own transaction (`app.engine.runtime.history.write` calls it);
  `rebuild.py` replays the whole history into empty tables (the migration's backfill, `flask stats rebuild`).
- `upsert.py`: the counters' `INSERT ... ON CONFLICT DO UPDATE` (`add_counts`), built once per
  table, which `record.py`, `counts.py` (`ticket_count`) and `list_counts.py` write with.
- `kpis.py`: the KPI page's figures per period, ticket type and team (`kpis(scope, period, type, team)`).
- `elements.py`: per-element statistics of a process version (the heatmap and its API).
- `buckets.py`: log-scale duration buckets (median and p90 without the raw values).

Definitions (what counts as a first response, a resolution, ...) are in `DEFINITIONS` (kpis.py)
and docs/dashboard.md. Nothing here imports the engine.
"""

from app.stats import counts  # noqa: E402, F401  (registers the ticket_count listeners)
