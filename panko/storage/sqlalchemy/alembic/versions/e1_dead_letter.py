"""Keep dead letters: what could not become stored events.

An event that is invalid, badly signed or cannot be stored, a raw
notification that cannot be normalized and a message that cannot be read
at all are kept in ``dead_letter`` for an operator (``panko-dead-letters``
lists, shows, replays and purges them) instead of being logged with their
credentials or requeued forever.

Text columns hold printable ASCII only (the driver escapes the rest), so
the table stores any letter whatever the engine's charset; ``payload`` is
the letter's document as ASCII JSON text, cut to 1 MiB (``truncated``).
Ids are never reused.

Revision ID: e1_dead_letter
Revises: d1_mysql_utf8mb4
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = 'e1_dead_letter'
down_revision = 'd1_mysql_utf8mb4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'dead_letter',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('created_at',
                  sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql'),
                  nullable=False),
        sa.Column('door', sa.String(32), nullable=False),
        sa.Column('kind', sa.String(32), nullable=False),
        sa.Column('message_id', sa.String(255)),
        sa.Column('reason', sa.String(1024), nullable=False),
        sa.Column('payload',
                  sa.Text().with_variant(mysql.LONGTEXT(), 'mysql'),
                  nullable=False),
        sa.Column('truncated', sa.Boolean, nullable=False),
        # Ids are never reused, on SQLite either: an operator who names
        # a letter by its id never reaches another one.
        sqlite_autoincrement=True,
    )
    op.create_index('ix_dead_letter_door', 'dead_letter', ['door', 'id'])
