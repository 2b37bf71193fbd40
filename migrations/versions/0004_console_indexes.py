"""console indexes: case search by words (PostgreSQL)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 12:00:00

Case search matches words anywhere in the description or address. At a million cases a scan
takes 0.2-0.6 s, so PostgreSQL gets two GIN indexes over the same expression as
`dispatch.adapters.orm.CASE_TEXT`:
- pg_trgm for `ILIKE '%word%'`, which needs words of three characters or more;
- `text_bigrams()`, every two-character piece, for two-character words (most Chinese words:
  电梯, 井盖, 漏水), which have no trigram and would otherwise scan.
How search uses them without scanning for a common word: `dispatch.service.queue._find_words`.

SQLite has neither and scans; alembic's comparison skips expression indexes there.

pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it. It goes in
`public` when that schema exists, so that dropping a schema of the application's own (as the
tests do) does not drop the extension with it; the operator class is named with the schema the
extension actually lives in.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Immutable, so that an index may use it; lower() as ILIKE folds case.
BIGRAMS = """
CREATE FUNCTION text_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(folded, i, 2)), '{}')
    FROM (SELECT lower(value) AS folded) AS t, generate_series(1, length(folded) - 1) AS i
$$
"""
CASE_TEXT = "(description || ' ' || address)"


def _trigram_schema(bind: Connection) -> str:
    """The schema of pg_trgm, created first if missing; a clear error when it cannot be."""
    find = "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
    schema = bind.exec_driver_sql(find).scalar()
    if schema is None:
        public = bind.exec_driver_sql("SELECT 1 FROM pg_namespace WHERE nspname = 'public'")
        where = " SCHEMA public" if public.scalar() else ""
        try:
            with bind.begin_nested():
                bind.exec_driver_sql(f"CREATE EXTENSION IF NOT EXISTS pg_trgm{where}")
        except Exception as exc:
            raise RuntimeError(
                "CommandHall needs the PostgreSQL extension pg_trgm for case search (in "
                "postgresql-contrib; the database owner or a superuser may run "
                f"CREATE EXTENSION pg_trgm): {exc}"
            ) from exc
        schema = bind.exec_driver_sql(find).scalar()
    return str(schema)  # regnamespace quotes it where needed


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    ops = f"{_trigram_schema(bind)}.gin_trgm_ops"
    op.execute(f"CREATE INDEX ix_cases_text_trgm ON cases USING gin ({CASE_TEXT} {ops})")
    op.execute(BIGRAMS)
    op.execute(f"CREATE INDEX ix_cases_text_bigrams ON cases USING gin (text_bigrams{CASE_TEXT})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_cases_text_bigrams")
    op.execute("DROP FUNCTION text_bigrams(text)")
    op.execute("DROP INDEX ix_cases_text_trgm")
