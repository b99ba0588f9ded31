"""A command run on a database without Ticketflow's tables says so in one line, not a stack trace."""

import functools

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

# SQLite: "no such table: x" / "no such column"; PostgreSQL: 'relation "x" does not exist' /
# 'column "y" does not exist'.
_MISSING = ("no such table", "no such column", "does not exist")
NOT_MIGRATED = (
    "the database has no Ticketflow tables yet, or an older schema: run `flask db upgrade` first "
    "(`make run` does it)"
)


def _missing_schema(error: Exception) -> bool:
    return any(part in str(getattr(error, "orig", error)).lower() for part in _MISSING)


def guard(command: click.Command) -> click.Command:
    """Wrap `command` (every command of a group) so a missing table or column ends it with
    NOT_MIGRATED and exit status 1."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            guard(sub)
        return command
    inner = command.callback
    if inner is None or getattr(inner, "schema_guarded", False):
        return command

    @functools.wraps(inner)
    def callback(*args, **kwargs):
        try:
            return inner(*args, **kwargs)
        except (OperationalError, ProgrammingError) as error:
            if not _missing_schema(error):
                raise
            raise click.ClickException(NOT_MIGRATED) from None

    callback.schema_guarded = True
    command.callback = callback
    return command
