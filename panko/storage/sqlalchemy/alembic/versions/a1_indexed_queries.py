"""Index every query shape and make times precise on every engine.

* MySQL: DECIMAL epoch seconds become DATETIME(6) (same instant, UTC) and
  ``raw`` becomes LONGTEXT, so large notifications fit.
* ``event.project_id`` and ``event.user_id`` copy the string traits of the
  same names (back-filled here; kept by the driver from now on).
* Indexes on the listing order, behind event type and project, and on
  (key, value) of each trait table.
* ``trait_type`` lists the traits of each event type, filled from the
  existing traits.

Revision ID: a1_indexed_queries
Revises: panko10
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = 'a1_indexed_queries'
down_revision = 'panko10'
branch_labels = None
depends_on = None

TRAIT_TABLES = {1: 'trait_text', 2: 'trait_int', 3: 'trait_float',
                4: 'trait_datetime'}


def _mysql_epoch_to_datetime(table, column):
    """Replace a DECIMAL epoch column by a DATETIME(6) one, in UTC."""
    new = column + '_datetime'
    op.add_column(table, sa.Column(new, mysql.DATETIME(fsp=6)))
    op.execute("SET time_zone = '+00:00'")
    op.execute('UPDATE `%s` SET `%s` = FROM_UNIXTIME(`%s`)'  # noqa: S608
               % (table, new, column))
    op.drop_column(table, column)
    op.alter_column(table, new, new_column_name=column,
                    existing_type=mysql.DATETIME(fsp=6))


def _backfill_owner_columns():
    event = sa.table('event', sa.column('id'), sa.column('project_id'),
                     sa.column('user_id'))
    trait_text = sa.table('trait_text', sa.column('event_id'),
                          sa.column('key'), sa.column('value'))
    for name in ('project_id', 'user_id'):
        value = sa.select(trait_text.c.value).where(
            trait_text.c.event_id == event.c.id,
            trait_text.c.key == name).scalar_subquery()
        op.execute(event.update().values({name: value}))


def _fill_trait_type():
    event = sa.table('event', sa.column('id'), sa.column('event_type_id'))
    trait_type = sa.table('trait_type', sa.column('event_type_id'),
                          sa.column('key'), sa.column('dtype'))
    for dtype, name in TRAIT_TABLES.items():
        trait = sa.table(name, sa.column('event_id'), sa.column('key'))
        kinds = sa.select(event.c.event_type_id, trait.c.key,
                          sa.literal(dtype, sa.SmallInteger)).join(
            event, event.c.id == trait.c.event_id).distinct()
        op.execute(trait_type.insert().from_select(
            ['event_type_id', 'key', 'dtype'], kinds))


def upgrade():
    if op.get_bind().dialect.name == 'mysql':
        _mysql_epoch_to_datetime('event', 'generated')
        _mysql_epoch_to_datetime('trait_datetime', 'value')
        op.alter_column('event', 'raw', type_=mysql.LONGTEXT(),
                        existing_type=sa.Text)
    op.add_column('event', sa.Column('project_id', sa.String(255)))
    op.add_column('event', sa.Column('user_id', sa.String(255)))
    _backfill_owner_columns()

    op.create_index('ix_event_generated_message_id', 'event',
                    ['generated', 'message_id'])
    op.create_index('ix_event_type_id_generated', 'event',
                    ['event_type_id', 'generated', 'message_id'])
    op.create_index('ix_event_project_id_generated', 'event',
                    ['project_id', 'generated', 'message_id'])
    for name in TRAIT_TABLES.values():
        op.create_index('ix_%s_key_value' % name, name, ['key', 'value'])

    op.create_table(
        'trait_type',
        sa.Column('event_type_id', sa.Integer,
                  sa.ForeignKey('event_type.id'), primary_key=True),
        sa.Column('key', sa.String(255), primary_key=True),
        sa.Column('dtype', sa.SmallInteger, primary_key=True),
    )
    _fill_trait_type()
