"""Alembic environment: migrations run on the connection panko hands over."""

from alembic import context

from panko.storage.sqlalchemy import tables


def run_migrations():
    connection = context.config.attributes['connection']
    context.configure(connection=connection,
                      target_metadata=tables.metadata)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
