"""The SQL schema at the newest migration, for building queries.

The alembic migrations in ``alembic/versions`` create it; this module only
describes it. The layout keeps Panko 10's tables (so its databases are
upgraded in place) and adds what its queries lacked:

* ``event.project_id`` and ``event.user_id`` copy the string traits of the
  same names, so the access restriction every API query carries is an
  indexed column test instead of a look-up in the trait tables;
* an index on (name, value) for each trait table, so a trait filter is an
  index range scan;
* ``trait_type`` summarises which traits each event type has, so listing
  them does not scan every event of the type;
* the listings' sort keys ``(generated, message_id)`` are indexed, alone
  and behind event type and project, so a page is read in index order
  and stops after ``limit`` rows.

``dead_letter`` keeps what could not become stored events for an operator
(see ``panko-dead-letters``); its text columns hold only printable ASCII
and its payload ASCII JSON text, so no engine or charset refuses one.

On PostgreSQL the trait tables have no primary key but an index on
``event_id`` alone, much smaller (see the migration
``b1_pg_trait_event_id_index``), and no foreign key to ``event``, whose
per-row check was a large share of the server's work when recording
events (``c1_pg_trait_no_event_fk``: the driver keeps the reference
itself); the
metadata below describes the other engines' keys, which queries do not
depend on.

On MySQL/MariaDB every table is utf8mb4 with a binary collation that does
not pad (``d1_mysql_utf8mb4``), so text holds any character and compares
as on the other engines; the driver's connections use utf8mb4 too.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

#: Microsecond precision everywhere (MySQL's DATETIME defaults to seconds).
PreciseDateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
#: Raw notifications can exceed MySQL's 64 KiB TEXT.
LongText = sa.Text().with_variant(mysql.LONGTEXT(), 'mysql')

metadata = sa.MetaData()

event_type = sa.Table(
    'event_type', metadata,
    sa.Column('id', sa.Integer, primary_key=True),
    sa.Column('desc', sa.String(255), unique=True),
)

event = sa.Table(
    'event', metadata,
    sa.Column('id', sa.Integer, primary_key=True),
    sa.Column('message_id', sa.String(50), unique=True),
    sa.Column('generated', PreciseDateTime),
    sa.Column('event_type_id', sa.Integer, sa.ForeignKey('event_type.id')),
    sa.Column('raw', LongText),
    sa.Column('project_id', sa.String(255)),
    sa.Column('user_id', sa.String(255)),
)

trait_type = sa.Table(
    'trait_type', metadata,
    sa.Column('event_type_id', sa.Integer, sa.ForeignKey('event_type.id'),
              primary_key=True),
    sa.Column('key', sa.String(255), primary_key=True),
    sa.Column('dtype', sa.SmallInteger, primary_key=True),
)


def _trait_table(name, value_type):
    return sa.Table(
        name, metadata,
        sa.Column('event_id', sa.Integer, sa.ForeignKey('event.id'),
                  primary_key=True),
        sa.Column('key', sa.String(255), primary_key=True),
        sa.Column('value', value_type),
    )


trait_text = _trait_table('trait_text', sa.String(255))
trait_int = _trait_table('trait_int', sa.BigInteger)
trait_float = _trait_table('trait_float', sa.Float(53))
trait_datetime = _trait_table('trait_datetime', PreciseDateTime)

dead_letter = sa.Table(
    'dead_letter', metadata,
    sa.Column('id', sa.Integer, primary_key=True),
    sa.Column('created_at', PreciseDateTime, nullable=False),
    sa.Column('door', sa.String(32), nullable=False),
    sa.Column('kind', sa.String(32), nullable=False),
    sa.Column('message_id', sa.String(255)),
    sa.Column('reason', sa.String(1024), nullable=False),
    sa.Column('payload', LongText, nullable=False),
    sa.Column('truncated', sa.Boolean, nullable=False),
    sa.Index('ix_dead_letter_door', 'door', 'id'),
    # Never reuse the id of a deleted letter, on SQLite either.
    sqlite_autoincrement=True,
)
