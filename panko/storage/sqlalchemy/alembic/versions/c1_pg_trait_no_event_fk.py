"""PostgreSQL: trait rows refer to their event without a foreign key.

PostgreSQL checks a foreign key with a trigger that looks up and locks the
referenced row, once per inserted row: 16 look-ups for a typical event,
a large share of the server's work when recording events. Deleting an
event ran four more look-ups, one per trait table.

The driver keeps the reference intact itself: a batch's trait rows are
copied in the transaction that copies their events, with the ids it has
just drawn from the event sequence for those events
(panko/storage/sqlalchemy/postgresql.py), and the expirer deletes them
with their event in one transaction; a trait row is never written for an
event stored before. An orphan could only come from a hand-made DELETE on
``event``; it would never be read (traits are always reached from their
event, and event ids are never reused).

MySQL/MariaDB and SQLite keep the keys: InnoDB checks them in the index
it already maintains, at a small cost, and SQLite does not enforce them
unless asked. ``event.event_type_id`` keeps its key on every engine: the
expirer relies on it to not remove an event type a writer has just used.

Revision ID: c1_pg_trait_no_event_fk
Revises: b1_pg_trait_event_id_index
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa

revision = 'c1_pg_trait_no_event_fk'
down_revision = 'b1_pg_trait_event_id_index'
branch_labels = None
depends_on = None

TRAIT_TABLES = ('trait_text', 'trait_int', 'trait_float', 'trait_datetime')


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    inspector = sa.inspect(bind)
    for table in TRAIT_TABLES:
        # By what they refer to, not by name: a Panko 10 database's keys
        # may be named otherwise.
        for key in inspector.get_foreign_keys(table):
            if key['referred_table'] == 'event':
                op.drop_constraint(key['name'], table, type_='foreignkey')
