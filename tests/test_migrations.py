"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db


def _fresh_url(tmp_path, postgres_url):
    if postgres_url is None:
        return f"sqlite:///{tmp_path / 'migrated.db'}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS migrated"))
        conn.execute(text("CREATE DATABASE migrated"))
    admin.dispose()
    return postgres_url.rsplit("/", 1)[0] + "/migrated"


def test_migrations_match_the_models(tmp_path, postgres_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": _fresh_url(tmp_path, postgres_url)})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.engine.dispose()
    assert diff == []
