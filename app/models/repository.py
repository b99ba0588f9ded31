"""The repository: deployed, immutable diagram versions with the forms they reference."""

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.types import JSONType, UTCDateTime


class ProcessDefinition(db.Model):
    __tablename__ = "process_definition"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128))
    version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(8))  # bpmn | dmn
    name: Mapped[str | None] = mapped_column(String(200))
    # Deferred: commands load the definition for its forms; the bytes only on a cold spec cache.
    source: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    checksum: Mapped[str] = mapped_column(String(64))
    # {filename: JSON Schema} for every form the diagram names, frozen with the version.
    forms = mapped_column(JSONType, default=dict)
    start_form: Mapped[str | None] = mapped_column(String(200))
    # Decision ids (DMN) this version needs / provides, and their sources at deploy time.
    dependencies = mapped_column(JSONType, default=dict)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    deployed_at = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("key", "version", name="uq_process_definition_key_version"),)
