"""Alembic migrations and the ORM describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dispatch.adapters.db import Database
from dispatch.adapters.orm import Base


def test_the_migrated_schema_is_exactly_what_the_models_declare(db_url: str) -> None:
    db = Database(db_url)
    try:
        db.migrate()
        with db.write_engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        db.dispose()
    # A model change without its migration (or the reverse) shows up here.
    assert differences == []
