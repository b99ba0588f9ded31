"""What a session's listeners ask of a changed row."""

from sqlalchemy import inspect


def changed_since_flush(row, attributes) -> bool:
    """Whether any of `attributes` took a new value since the row's last flush or load."""
    state = inspect(row)
    since = state.committed_state  # the attributes set since the last flush or load (cheap to ask)
    return any(a in since and state.attrs[a].history.added for a in attributes)
