"""What a session's listeners ask of a changed row."""

from sqlalchemy import inspect
from sqlalchemy.orm.base import PASSIVE_NO_INITIALIZE


def changed_since_flush(row, attributes) -> bool:
    """Whether any of `attributes` took a new value since the row's last flush or load."""
    state = inspect(row)
    since = state.committed_state  # the attributes set since the last flush or load (cheap to ask)
    # Asked of the attribute itself: `state.attrs` would first build a view of every attribute.
    return any(a in since and state.get_history(a, PASSIVE_NO_INITIALIZE).added for a in attributes)


def changed_of(row, attributes) -> list[str]:
    """Those of `attributes` that took a new value since the row's last flush or load."""
    state = inspect(row)
    since = state.committed_state
    return [a for a in attributes if a in since and state.get_history(a, PASSIVE_NO_INITIALIZE).added]
