"""MySQL/MariaDB: every character of Unicode, compared as it is written.

Panko 10's tables (and databases devstack creates) use MySQL's utf8,
which is utf8mb3: three bytes a character at most, so an emoji, or any
other character beyond the Basic Multilingual Plane, cannot be stored.
Their collation, utf8_general_ci, also takes "A" for "a" and "a " for
"a", so two event types, message_ids or trait names that differ only so
collided in unique keys, failing whole batches, and trait filters
matched values other engines do not.

Every table becomes utf8mb4 with a binary collation that does not pad:
what PostgreSQL and SQLite compare, code point by code point. The
database's default changes too, so that tables created later follow.
MySQL 5.7 has no such collation; it gets utf8mb4_bin, which pads.

ROW_FORMAT=DYNAMIC (InnoDB's default since MySQL 5.7 and MariaDB 10.2)
lets an index key hold VARCHAR(255) of four-byte characters (1020 bytes)
where older tables' COMPACT format stops at 767. The longest key,
trait_text's (key, value), takes 2040 of InnoDB's 3072 bytes.

Each table is rebuilt: on a large database this takes a while, during
which it cannot be written.

Revision ID: d1_mysql_utf8mb4
Revises: c1_pg_trait_no_event_fk
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa

revision = 'd1_mysql_utf8mb4'
down_revision = 'c1_pg_trait_no_event_fk'
branch_labels = None
depends_on = None

TABLES = ('event_type', 'event', 'trait_type', 'trait_text', 'trait_int',
          'trait_float', 'trait_datetime')

#: Binary collations that do not pad, MariaDB's then MySQL 8's.
NO_PAD_COLLATIONS = ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin')


def binary_collation(connection):
    """The server's binary utf8mb4 collation, one that does not pad."""
    available = set(connection.execute(sa.text(
        'SELECT collation_name FROM information_schema.collations '
        'WHERE collation_name IN :names').bindparams(
            sa.bindparam('names', expanding=True)),
        {'names': list(NO_PAD_COLLATIONS)}).scalars())
    for collation in NO_PAD_COLLATIONS:
        if collation in available:
            return collation
    return 'utf8mb4_bin'


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'mysql':
        return
    collation = binary_collation(bind)
    op.execute('ALTER DATABASE CHARACTER SET utf8mb4 COLLATE %s' % collation)
    for table in TABLES:
        op.execute('ALTER TABLE `%s` ROW_FORMAT=DYNAMIC, CONVERT TO '
                   'CHARACTER SET utf8mb4 COLLATE %s' % (table, collation))
