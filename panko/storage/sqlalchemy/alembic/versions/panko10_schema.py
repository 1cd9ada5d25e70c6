"""The schema Panko 10 created, the starting point of every database.

Panko 10's dbsync created these tables with ``create_all`` and stamped no
revision; ``panko-dbsync`` stamps such a database with this revision and
migrates it from here. A new database is created through the same path,
so the upgrade from Panko 10 runs on every fresh install too.

On MySQL Panko 10 stored times as DECIMAL(20, 6) seconds since the epoch.

Revision ID: panko10
Revises:
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa

revision = 'panko10'
down_revision = None
branch_labels = None
depends_on = None


def _timestamp_type():
    if op.get_bind().dialect.name == 'mysql':
        return sa.Numeric(20, 6, asdecimal=True)
    return sa.DateTime()


def upgrade():
    op.create_table(
        'event_type',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('desc', sa.String(255), unique=True),
    )
    op.create_table(
        'event',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('message_id', sa.String(50), unique=True),
        sa.Column('generated', _timestamp_type()),
        sa.Column('raw', sa.Text),
        sa.Column('event_type_id', sa.Integer,
                  sa.ForeignKey('event_type.id')),
    )
    value_types = {
        'trait_text': sa.String(255),
        'trait_int': sa.BigInteger,
        'trait_float': sa.Float(53),
        'trait_datetime': _timestamp_type(),
    }
    for table, value_type in value_types.items():
        op.create_table(
            table,
            sa.Column('event_id', sa.Integer, sa.ForeignKey('event.id'),
                      primary_key=True),
            sa.Column('key', sa.String(255), primary_key=True),
            sa.Column('value', value_type),
        )
