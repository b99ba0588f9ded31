"""The repository: deployments (bundles) and the immutable diagram and form versions they made."""

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.types import JSONType, UTCDateTime


class Deployment(db.Model):
    """One accepted bundle: BPMN, DMN and form files checked together and stored together."""

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    # sha256 over the bundle's files (name and bytes, sorted): the same bundle twice is a no-op.
    checksum: Mapped[str] = mapped_column(String(64), index=True)
    # [{name, kind, sha256}] of the files, in upload order.
    files = mapped_column(JSONType, default=list)
    # What the person who deployed it said about it (the studio asks; the API may leave it out).
    comment: Mapped[str | None] = mapped_column(String(500))
    # The studio's run of the process tests before this deploy: {passed, failed, failing: [names],
    # overridden} (overridden: deployed although a test failed); None when no tests ran.
    tests = mapped_column(JSONType)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    deployed_at = mapped_column(UTCDateTime, default=utcnow)


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
    # What this version was parsed with, frozen at deploy: {"dmn": {decision id: DMN XML},
    # "bpmn": {file name: BPMN XML of called processes}, "owners": {...}, ...}.
    dependencies = mapped_column(JSONType, default=dict)
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployment.id"), index=True)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    deployed_at = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("key", "version", name="uq_process_definition_key_version"),)


class FormDefinition(db.Model):
    """A JSON form (JSON Schema or SpiffArena UI schema) as deployed: a new version per change."""

    __tablename__ = "form_definition"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int]
    checksum: Mapped[str] = mapped_column(String(64))
    schema = mapped_column(JSONType)
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployment.id"), index=True)
    deployed_at = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("name", "version", name="uq_form_definition_name_version"),)
