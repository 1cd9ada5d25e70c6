"""PostgreSQL: index trait rows by event_id alone, not (event_id, key).

On PostgreSQL a primary key is one more B-tree beside the table, and the
trait tables' (event_id, key) keys repeat every trait name, a good part
of the store for typical OpenStack events (16 traits). An index on
event_id alone serves the only look-up that needs it (the traits of a
page of events, and the deletion of expired events); its duplicates are
deduplicated by PostgreSQL 13+, so it takes much less space and costs
less to maintain. (key, value) stays indexed for trait filters.

The uniqueness of a name within an event is kept by the driver, which
stores one trait per name. MySQL/MariaDB keep the primary key, which is
InnoDB's clustered index (the traits of an event are stored together);
SQLite keeps it too.

Revision ID: b1_pg_trait_event_id_index
Revises: a1_indexed_queries
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa

revision = 'b1_pg_trait_event_id_index'
down_revision = 'a1_indexed_queries'
branch_labels = None
depends_on = None

TRAIT_TABLES = ('trait_text', 'trait_int', 'trait_float', 'trait_datetime')


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    inspector = sa.inspect(bind)
    for table in TRAIT_TABLES:
        op.create_index('ix_%s_event_id' % table, table, ['event_id'])
        primary_key = inspector.get_pk_constraint(table)['name']
        op.drop_constraint(primary_key, table, type_='primary')
