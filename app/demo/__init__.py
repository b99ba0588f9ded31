"""Demo history: months of tickets generated through the real engine on a moved clock
(`flask seed --history 6m`), so every dashboard page has something true to show.

`scenarios` says what customers and agents do (the paths through the four shipped types and
how long each step takes); `history` plays them on the engine's commands and the worker, moving
the clock from event to event and firing every timer on time.
"""

from app.demo.history import HistorySummary, parse_period, seed_history

__all__ = ["HistorySummary", "parse_period", "seed_history"]
