"""Alembic environment of an adapter's outbox: always run by adapters.base.outbox.migrate on a
connection it hands over, inside its transaction, with the outbox's own version table (in the
outbox's PostgreSQL schema, if it has one)."""

from __future__ import annotations

from alembic import context

from adapters.base.outbox.tables import metadata

config = context.config

if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations of an outbox are not supported")
context.configure(connection=config.attributes["connection"], target_metadata=metadata,
                  version_table=config.attributes["version_table"],
                  version_table_schema=config.attributes["schema"],
                  render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
