"""Column types shared by the models: aware UTC timestamps and portable JSON."""

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Store naive UTC; hand back aware UTC datetimes on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is UTC:  # what app.clock.utcnow gives: no conversion needed
            return value.replace(tzinfo=None)
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use app.clock.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):  # SQLite raw values in rare paths
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)


# JSONB on PostgreSQL, JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")
