"""PostgreSQL: the event and trait tables partitioned by time.

In the partitioned layout ``event`` and the four trait tables are
partitioned by range of ``generated`` (declarative partitioning), one
partition of each for every ``width`` seconds, aligned on the Unix epoch
(UTC). Each trait row carries its event's ``generated``, so an event and
its traits live in partitions of the same range and go together.
The width is fixed when panko-dbsync partitions a new database, and
recorded as the comment of ``event``.

A partitioned table's unique constraints include the partition key:
``event`` has PRIMARY KEY (id, generated) and UNIQUE (message_id,
generated). A redelivered event carries the generated of its first
delivery, so the pair still refuses it.

Partitions are created ahead of time (from a little before now to
``AHEAD`` after it) by panko-dbsync and by each writer, and for the
range of any late or early event before its batch is copied, so no
insert fails for lack of one. They are made as plain tables then
attached, which locks ``event`` in SHARE UPDATE EXCLUSIVE mode (CREATE
TABLE ... PARTITION OF would take ACCESS EXCLUSIVE, stopping every
reader); an advisory lock keeps two writers from creating the same one.

panko-expirer detaches (CONCURRENTLY) then drops the partitions wholly
older than its cutoff: see drop_expired.
"""

import datetime
import re
import time

from oslo_db import exception as db_exc
from oslo_log import log
import sqlalchemy as sa

from panko.storage.sqlalchemy import errors

LOG = log.getLogger(__name__)

#: The partitioned tables, ``event`` first: it is detached first, so that
#: no reader finds an event whose traits are already gone.
TABLES = ('event', 'trait_text', 'trait_int', 'trait_float',
          'trait_datetime')
EPOCH = datetime.datetime(1970, 1, 1)
#: How far after now partitions exist before any event needs them.
AHEAD = datetime.timedelta(days=2)
#: Key of the advisory lock held while partitions are added or removed.
LOCK_KEY = 0x70616e6b6f
#: Longest wait, in milliseconds, for the lock a DROP needs; other
#: sessions queue behind a waiting DROP, so it gives up soon and tries
#: again.
DROP_LOCK_TIMEOUT_MS = 50
DROP_ATTEMPTS = 100
#: SQLSTATE of a lock not obtained within lock_timeout.
LOCK_NOT_AVAILABLE = '55P03'

_COMMENT = 'panko: partitioned by generated, %d seconds a partition'
_COMMENT_PATTERN = re.compile(
    r'panko: partitioned by generated, (\d+) seconds a partition$')
_BOUND_PATTERN = re.compile(
    r"FROM \('([^']+)'\) TO \((?:'([^']+)'|MAXVALUE)\)")
_PARTITION_NAME = re.compile(r'^(%s)_p\d{10}$' % '|'.join(TABLES))

_EVENT_DDL = """
CREATE TABLE event (
    id SERIAL NOT NULL,
    message_id VARCHAR(50),
    generated TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    event_type_id INTEGER REFERENCES event_type (id),
    raw TEXT,
    project_id VARCHAR(255),
    user_id VARCHAR(255),
    PRIMARY KEY (id, generated),
    UNIQUE (message_id, generated)
) PARTITION BY RANGE (generated)
"""
#: ``generated`` first: after the 4-byte event_id, its 8-byte alignment
#: would pad each row with 4 more bytes.
_TRAIT_DDL = """
CREATE TABLE %s (
    generated TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    event_id INTEGER NOT NULL,
    key VARCHAR(255) NOT NULL,
    value %s
) PARTITION BY RANGE (generated)
"""
_VALUE_TYPES = {'trait_text': 'VARCHAR(255)', 'trait_int': 'BIGINT',
                'trait_float': 'DOUBLE PRECISION',
                'trait_datetime': 'TIMESTAMP WITHOUT TIME ZONE'}
#: The indexes of the unpartitioned layout (migrations a1 and b1).
_INDEXES = (
    ('ix_event_generated_message_id', 'event', 'generated, message_id'),
    ('ix_event_type_id_generated', 'event',
     'event_type_id, generated, message_id'),
    ('ix_event_project_id_generated', 'event',
     'project_id, generated, message_id'),
) + tuple(index for table in _VALUE_TYPES for index in (
    ('ix_%s_event_id' % table, table, 'event_id'),
    ('ix_%s_key_value' % table, table, 'key, value')))


def width(conn):
    """Seconds each partition spans, or None if ``event`` is not partitioned.
    """
    row = conn.execute(sa.text(
        "SELECT relkind, obj_description(oid, 'pg_class') FROM pg_class "
        "WHERE oid = to_regclass('event')")).first()
    if row is None or row[0] != 'p':
        return None
    match = _COMMENT_PATTERN.match(row[1] or '')
    if match is None:
        raise ValueError('event is partitioned, but not by panko: its '
                         'comment does not give the partition width')
    return int(match.group(1))


def partition_new(conn, seconds):
    """Rebuild an empty, unpartitioned store partitioned; True if done.

    ``conn`` is in a transaction; ``event`` is locked first, so that no
    writer stores an event meanwhile. A store holding events is left as
    it is (converting one is another command's work).
    """
    conn.execute(sa.text('LOCK TABLE event IN ACCESS EXCLUSIVE MODE'))
    if width(conn) is not None or conn.scalar(
            sa.text('SELECT EXISTS (SELECT 1 FROM event)')):
        return False
    for table in reversed(TABLES):
        conn.execute(sa.text('DROP TABLE %s' % table))
    conn.execute(sa.text(_EVENT_DDL))
    for table, value_type in _VALUE_TYPES.items():
        conn.execute(sa.text(_TRAIT_DDL % (table, value_type)))
    for name, table, columns in _INDEXES:
        conn.execute(sa.text('CREATE INDEX %s ON %s (%s)'
                             % (name, table, columns)))
    conn.execute(sa.text("COMMENT ON TABLE event IS '%s'"
                         % (_COMMENT % seconds)))
    return True


def start_of(when, seconds):
    """The start of the partition holding ``when``."""
    step = datetime.timedelta(seconds=seconds)
    try:
        return EPOCH + (when - EPOCH) // step * step
    except OverflowError:
        return datetime.datetime.min


def wanted(seconds, now, events=()):
    """Partition starts for now to AHEAD after it, and for ``events``."""
    step = datetime.timedelta(seconds=seconds)
    first, last = start_of(now - step, seconds), start_of(now + AHEAD, seconds)
    starts = {first + step * n for n in range((last - first) // step + 1)}
    return starts | {start_of(event.generated, seconds) for event in events}


def attached(conn):
    """{start: end} of the partitions of ``event``; end None for MAXVALUE."""
    bounds = conn.execute(sa.text(
        'SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i '
        'JOIN pg_class c ON c.oid = i.inhrelid '
        "WHERE i.inhparent = to_regclass('event') "
        'AND NOT i.inhdetachpending')).scalars()
    ranges = {}
    for bound in bounds:
        match = _BOUND_PATTERN.search(bound)
        if match:
            start, end = match.groups()
            ranges[datetime.datetime.fromisoformat(start)] = (
                end and datetime.datetime.fromisoformat(end))
    return ranges


def ensure(conn, seconds, starts):
    """Create the partitions of ``starts`` that are missing; return all.

    ``conn`` is in a transaction of its own, committed before the batch
    that needs the partitions is written: the partitions' locks are not
    held while it is.
    """
    conn.execute(sa.text('SELECT pg_advisory_xact_lock(%d)' % LOCK_KEY))
    existing = attached(conn)
    for start in sorted(set(starts) - existing.keys()):
        try:
            end = start + datetime.timedelta(seconds=seconds)
        except OverflowError:
            end = None
        _create(conn, start, end)
        existing[start] = end
    return set(existing)


def _name(table, start):
    return '%s_p%04d%02d%02d%02d' % (table, start.year, start.month,
                                     start.day, start.hour)


def _literal(when):
    return "'%s'" % when.isoformat(' ') if when else 'MAXVALUE'


def _create(conn, start, end):
    """Create and attach one partition of each table.

    A table of the same name left by an expirer that could not drop it
    holds expired rows: it is dropped first.
    """
    LOG.info('Creating the partitions of events generated from %s', start)
    for table in TABLES:
        name = _name(table, start)
        conn.execute(sa.text('DROP TABLE IF EXISTS %s' % name))
        conn.execute(sa.text('CREATE TABLE %s (LIKE %s)' % (name, table)))
        conn.execute(sa.text(
            'ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)'
            % (table, name, _literal(start), _literal(end))))


def drop_expired(engine, cutoff):
    """Detach and drop every partition wholly older than ``cutoff``.

    Returns how many events the dropped partitions held. Detaching
    CONCURRENTLY takes no lock that stops readers or writers of the
    other partitions; dropping the detached tables locks ``event_type``
    (the foreign key's triggers go with them) for a moment, waiting at
    most DROP_LOCK_TIMEOUT_MS for it at each attempt. A run stopped
    half-way is completed by the next: detaches left pending are
    finalized and detached tables dropped.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level='AUTOCOMMIT')
        conn.execute(sa.text('SELECT pg_advisory_lock(%d)' % LOCK_KEY))
        try:
            _finalize_pending(conn)
            for start, end in sorted(attached(conn).items()):
                if end is not None and end <= cutoff:
                    for table in TABLES:
                        conn.execute(sa.text(
                            'ALTER TABLE %s DETACH PARTITION %s CONCURRENTLY'
                            % (table, _name(table, start))))
            return _drop_detached(conn)
        finally:
            conn.execute(sa.text('SELECT pg_advisory_unlock(%d)' % LOCK_KEY))


def _finalize_pending(conn):
    pending = conn.execute(sa.text(
        'SELECT p.relname, c.relname FROM pg_inherits i '
        'JOIN pg_class c ON c.oid = i.inhrelid '
        'JOIN pg_class p ON p.oid = i.inhparent '
        'WHERE i.inhdetachpending AND p.relname = ANY(:tables)'),
        {'tables': list(TABLES)}).all()
    for table, name in pending:
        conn.execute(sa.text('ALTER TABLE %s DETACH PARTITION %s FINALIZE'
                             % (table, name)))


def _drop_detached(conn):
    """Drop our partitions' tables that are no longer attached.

    Returns how many events they held.
    """
    names = [name for name in conn.execute(sa.text(
        "SELECT relname FROM pg_class WHERE relkind = 'r' "
        'AND NOT relispartition '
        'AND relnamespace = current_schema()::regnamespace '
        'ORDER BY relname')).scalars() if _PARTITION_NAME.match(name)]
    events = 0
    for name in names:
        if name.startswith('event_'):
            # A name of _PARTITION_NAME's form, nothing else.
            events += conn.scalar(sa.text(
                'SELECT count(*) FROM %s' % name))  # noqa: S608
        _drop(conn, name)
    return events


def _drop(conn, name):
    conn.execute(sa.text("SET lock_timeout = '%dms'" % DROP_LOCK_TIMEOUT_MS))
    try:
        for attempt in range(1, DROP_ATTEMPTS + 1):
            try:
                conn.execute(sa.text('DROP TABLE %s' % name))
                return
            except (sa.exc.DBAPIError, db_exc.DBError) as e:
                if (getattr(errors.dbapi_error(e), 'sqlstate', None)
                        != LOCK_NOT_AVAILABLE or attempt == DROP_ATTEMPTS):
                    raise
                time.sleep(0.01 * attempt)
    finally:
        conn.execute(sa.text('RESET lock_timeout'))
