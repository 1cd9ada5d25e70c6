"""The SQL driver: PostgreSQL, MySQL/MariaDB and SQLite.

A batch's rows (``sqlalchemy/rows.py``) go by COPY on PostgreSQL with
psycopg (``sqlalchemy/postgresql.py``, with the connections' set-up
only PostgreSQL needs), by INSERT elsewhere. A PostgreSQL database may
be partitioned by time (``sqlalchemy/partitions.py``); the driver learns
its layout when it connects.
"""

import contextlib
import functools
import json
import operator
import time

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_log import log
from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from panko import profiler
from panko import safe_text
from panko import storage
from panko.storage import base
from panko.storage import models
from panko.storage.sqlalchemy import errors
from panko.storage.sqlalchemy import migration
from panko.storage.sqlalchemy import mysql
from panko.storage.sqlalchemy import partitions
from panko.storage.sqlalchemy import postgresql as pg
from panko.storage.sqlalchemy import rows
from panko.storage.sqlalchemy import tables

LOG = log.getLogger(__name__)

#: Attempts at a batch that lost a race with another writer.
WRITE_ATTEMPTS = 3

_COMPARATORS = {
    'lt': lambda column, value: column < value,
    'le': lambda column, value: column <= value,
    'eq': lambda column, value: column == value,
    'ne': lambda column, value: column != value,
    'ge': lambda column, value: column >= value,
    'gt': lambda column, value: column > value,
}


def _with_default_driver(url):
    """Name the DB-API driver panko installs when the URL names none."""
    for scheme, driver in (('mysql', 'mysql+pymysql'),
                           ('postgresql', 'postgresql+psycopg')):
        if url.startswith(scheme + '://'):
            return driver + url[len(scheme):]
    return url


def _with_utf8mb4(url, option):
    """A MySQL URL asks for the utf8mb4 character set; others are kept.

    oslo.db asks for utf8 when the URL names no charset, which MySQL
    takes for utf8mb3: three bytes, no emoji or other character beyond
    the BMP. A URL naming another charset is refused rather than have
    every event holding such a character fail; ``option`` names the
    URL's option in that error.
    """
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != 'mysql':
        return url
    charset = parsed.query.get('charset')
    if charset is None:
        return parsed.update_query_dict({'charset': 'utf8mb4'}
                                        ).render_as_string(hide_password=False)
    if charset != 'utf8mb4':
        raise storage.StorageError(
            '[database] %s asks MySQL for the %s character set, '
            'which cannot hold every character events carry: use '
            'charset=utf8mb4 in the URL (or name no charset)'
            % (option, charset))
    return url


def _raw_document(text):
    return json.loads(text) if text else {}


def _raw_text(text):
    return text or '{}'


def _insert_trait_rows(conn, table, rows):
    """INSERT (event_id, key, value) tuples with the driver's executemany.

    PyMySQL makes multi-row INSERTs of it, SQLite runs it in-process;
    building SQLAlchemy's dict of parameters for each row instead cost
    the client more than the database's whole work. Values still go
    through the column type's own conversion (SQLite's text times).
    """
    convert = table.c.value.type.dialect_impl(conn.dialect).bind_processor(
        conn.dialect)
    if convert is not None:
        rows = [(event_id, key, convert(value))
                for event_id, key, value in rows]
    conn.exec_driver_sql(_trait_insert_text(conn.dialect, table), rows)


@functools.lru_cache
def _trait_insert_text(dialect, table):
    """INSERT INTO a trait table, in the driver's own parameter style."""
    quote = dialect.identifier_preparer.quote
    marker = '?' if dialect.paramstyle == 'qmark' else '%s'
    # Only names from panko's own metadata go into the text.
    return 'INSERT INTO %s (event_id, %s, value) VALUES (%s, %s, %s)' % (  # noqa: S608
        quote(table.name), quote('key'), marker, marker, marker)


def _insert_events(conn, rows):
    """Insert event rows; return {message_id: id}."""
    event = tables.event
    conn.execute(event.insert(), rows)
    return dict(conn.execute(
        sa.select(event.c.message_id, event.c.id).where(
            event.c.message_id.in_([row['message_id'] for row in rows]))
    ).all())


#: Options of [database] that are not oslo.db's engine options: panko's
#: own, and the replica's URL, for which the driver makes an engine of
#: its own (enginefacade would connect every process to it).
_NOT_ENGINE_OPTIONS = frozenset(
    [opt.name for opt in storage.DATABASE_OPTS] + ['slave_connection'])


def _make_engine(conf, url, query_timeout, option='connection'):
    """An engine of ``url`` with panko's set-up (see Connection).

    ``option`` names the URL's option in [database], for errors.
    """
    try:
        url = _with_utf8mb4(_with_default_driver(url), option)
        options = {key: value for key, value in conf.database.items()
                   if key not in _NOT_ENGINE_OPTIONS}
        # Start-up retries are panko's own ([storage] max_retries).
        options.update(connection=url, max_retries=0, sqlite_fk=True)
        context = enginefacade.transaction_context()
        context.configure(**options)
        engine = context.writer.get_engine()
    except (sa.exc.ArgumentError, ValueError) as e:
        # Not the error's text: it may hold the URL and its password.
        raise storage.StorageError(
            '[database] %s is not a SQL database URL that SQLAlchemy can '
            'load (%s)' % (option, type(e).__name__)) from e
    profiler.trace_engine(conf, engine)
    if query_timeout:
        _bound_statements(engine, query_timeout)
    if engine.dialect.name == 'postgresql':
        sa.event.listen(engine, 'connect', pg.without_parallel_plans)
    if engine.dialect.name == 'mysql':
        # As on PostgreSQL: a batch must see the event types that a
        # concurrent writer has just committed, which MySQL's default
        # repeatable reads would hide from it.
        engine = engine.execution_options(isolation_level='READ COMMITTED')
    return engine


def _bound_statements(engine, seconds):
    """Have the database cancel statements that run over ``seconds``.

    PostgreSQL's statement_timeout, MariaDB's max_statement_time and
    MySQL's max_execution_time (SELECTs only) are set for each connection
    of the engine. SQLite runs in this process: a progress handler
    interrupts a statement once its time is up.
    """
    if engine.dialect.name == 'sqlite':
        sa.event.listen(engine, 'before_cursor_execute',
                        functools.partial(_sqlite_deadline, seconds))
        return
    milliseconds = max(1, round(seconds * 1000))

    def bound(dbapi_connection, connection_record):
        if engine.dialect.name == 'postgresql':
            statement = 'SET statement_timeout = %d' % milliseconds
        elif 'MariaDB' in dbapi_connection.get_server_info():
            statement = 'SET SESSION max_statement_time = %.3f' % (
                milliseconds / 1000)
        else:
            statement = 'SET SESSION max_execution_time = %d' % milliseconds
        with dbapi_connection.cursor() as cursor:
            cursor.execute(statement)
        dbapi_connection.commit()
    sa.event.listen(engine, 'connect', bound)


def _sqlite_deadline(seconds, conn, cursor, statement, parameters, context,
                     executemany):
    deadline = time.monotonic() + seconds
    conn.connection.dbapi_connection.set_progress_handler(
        lambda: time.monotonic() > deadline, 1000)


#: Index of each type's value column in a row of _traits_query.
_VALUE_COLUMN = {dtype: 3 + position
                 for position, dtype in enumerate(rows.TRAIT_TABLES)}
_BY_NAME = operator.attrgetter('name')
#: The trait tables' ``generated``, which only the partitioned layout has.
_GENERATED = sa.column('generated', sa.DateTime)


@functools.lru_cache
def _traits_query(dialect_name, partitioned=False):
    """Every trait of the events ``event_ids``: one UNION ALL of the tables.

    Each row is (event_id, key, dtype, value if text, value if integer,
    value if float, value if datetime). On PostgreSQL the ids are one
    array parameter, so the statement text is always the same and the
    driver prepares it once; elsewhere they expand into an IN list.
    Partitioned, the rows are also bounded by the events' times
    (``first`` and ``last``), so that only their partitions are read.
    """
    if dialect_name == 'postgresql':
        # Typed NULLs unite the value columns; MySQL cannot CAST to every
        # type, and needs no cast.
        typed_null = sa.cast
        ids = sa.bindparam('event_ids', type_=postgresql.ARRAY(sa.Integer))
    else:
        typed_null = sa.type_coerce
        ids = sa.bindparam('event_ids', expanding=True)
    selects = []
    for dtype, table in rows.TRAIT_TABLES.items():
        values = [table.c.value if other == dtype
                  else typed_null(sa.null(), other_table.c.value.type)
                  for other, other_table in rows.TRAIT_TABLES.items()]
        in_page = (table.c.event_id == sa.any_(ids)
                   if dialect_name == 'postgresql'
                   else table.c.event_id.in_(ids))
        select = sa.select(
            table.c.event_id, table.c.key,
            sa.literal(dtype, sa.SmallInteger).label('dtype'), *values,
        ).where(in_page)
        if partitioned:
            select = select.where(_GENERATED.between(
                sa.bindparam('first'), sa.bindparam('last')))
        selects.append(select)
    return sa.union_all(*selects)


class Connection(base.Connection):
    """A SQL database, and maybe a read replica of it.

    With a ``reader_url``, the events, event types, trait types and
    traits are read from the replica; everything else (writes, schema,
    retention, dead letters) goes to ``url``. A replica that cannot be
    reached at start-up is logged, not fatal: writes need only the
    primary.
    """

    CAPABILITIES = {'events': {'query': {'simple': True}}}
    STORAGE_CAPABILITIES = {'storage': {'production_ready': True}}
    READS_FROM_REPLICA = True

    def __init__(self, conf, url, query_timeout=0, reader_url=None):
        super().__init__(conf, url, query_timeout, reader_url)
        self._engine = _make_engine(conf, url, query_timeout)
        self._reader = self._engine
        if reader_url:
            self._reader = _make_engine(conf, reader_url, query_timeout,
                                        option='slave_connection')
            if self._reader.dialect.name != self._engine.dialect.name:
                raise storage.StorageError(
                    '[database] slave_connection is a %s URL, but '
                    'connection a %s one: the replica must be of the '
                    'same database' % (self._reader.dialect.name,
                                       self._engine.dialect.name))
        self._event_type_ids = {}
        self._known_trait_types = set()
        self._read_layout()
        if reader_url:
            self._check_replica()

    def _check_replica(self):
        try:
            with self._connect(replica=True):
                pass
        except storage.StorageUnavailable as e:
            LOG.warning('The read replica ([database] slave_connection) is '
                        'unreachable, reads fail until it answers: %s', e)

    def _read_layout(self):
        """Learn whether the tables are partitioned, and by what width.

        Only PostgreSQL's can be. The starts of the partitions known to
        exist are kept, so that a batch whose times fall in them creates
        none.
        """
        with self._connect() as conn:
            self._partition_width = (
                partitions.width(conn)
                if conn.dialect.name == 'postgresql' else None)
        self._partition_starts = set()
        if self._partition_width and self._engine.dialect.driver != 'psycopg':
            raise storage.StorageError(
                'the database is partitioned, which only the psycopg '
                'driver writes: name postgresql+psycopg in [database] '
                'connection')

    @property
    def engine(self):
        """The SQLAlchemy engine, for tests and tools that read the tables."""
        return self._engine

    @property
    def partition_width(self):
        """Seconds of events a partition holds; None unpartitioned."""
        return self._partition_width

    @contextlib.contextmanager
    def _connect(self, transaction=False, replica=False):
        """A connection, with database failures as storage errors.

        With ``replica``, a connection to the read replica if there is
        one, for reading events.
        """
        engine = self._reader if replica else self._engine
        try:
            if transaction:
                with engine.begin() as connection:
                    yield connection
            else:
                with engine.connect() as connection:
                    yield connection
        except (db_exc.DBDeadlock, db_exc.DBDuplicateEntry,
                db_exc.DBReferenceError):
            raise  # _write_batch tries again
        except (db_exc.DBError, sa.exc.OperationalError) as e:
            if errors.timed_out(e):
                raise storage.QueryTimeout(
                    'statement cancelled after %s seconds'
                    % self.query_timeout) from e
            if not errors.is_outage(e):
                raise
            raise storage.StorageUnavailable('%s unavailable: %s' % (
                'database' if engine is self._engine else 'read replica',
                errors.describe(e))) from e

    def upgrade(self):
        """Migrate; partition a new PostgreSQL database if asked to.

        Partitions are then created from now to partitions.AHEAD.
        """
        migration.upgrade(self._engine)
        if self._engine.dialect.name != 'postgresql':
            return
        if self.conf.database.partitioning == 'auto':
            with self._connect(transaction=True) as conn:
                if partitions.partition_new(
                        conn, self.conf.database.partition_width * 3600):
                    LOG.info('Partitioned the new database by time')
        self._read_layout()
        if self._partition_width:
            self._ensure_partitions([])
        elif self.conf.database.partitioning == 'auto':
            LOG.warning('The database holds events: it keeps its '
                        'unpartitioned layout')

    def schema_status(self):
        current = migration.current_revision(self._engine)
        return base.SchemaStatus(
            current=current, head=migration.head_revision(),
            panko10=(current is None
                     and sa.inspect(self._engine).has_table('event')))

    def clear(self):
        with self._connect(transaction=True) as conn:
            for table in reversed(tables.metadata.sorted_tables):
                conn.execute(table.delete())
        self._forget_cached_ids()

    def _forget_cached_ids(self):
        self._event_type_ids.clear()
        self._known_trait_types.clear()

    # Writing

    def record_events(self, events):
        result = models.RecordResult()
        batch = self._validated_batch(events, result)
        if batch:
            stored, duplicates = self._write_batch(list(batch.values()))
            result.stored.extend(stored)
            result.duplicates.extend(duplicates)
        return result

    def _write_batch(self, events):
        """Write in one transaction; retry when another writer interferes.

        A concurrent writer may store one of our message_ids first, the
        expirer may delete an event type we have cached, or the database
        may pick our transaction as a deadlock's victim: the transaction is
        rolled back whole and tried again with fresh look-ups.
        """
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                if self._partition_width:
                    self._ensure_partitions(events)
                with self._connect(transaction=True) as conn:
                    stored, duplicates, trait_types = self._insert(
                        conn, events)
                # Known only once committed: a rolled back batch must not
                # keep another batch from recording them.
                self._known_trait_types.update(trait_types)
                return stored, duplicates
            except (db_exc.DBDuplicateEntry, db_exc.DBReferenceError,
                    db_exc.DBDeadlock, pg.PartitionMissing) as e:
                self._forget_cached_ids()
                self._partition_starts = set()
                if attempt == WRITE_ATTEMPTS:
                    raise storage.StorageUnavailable(
                        'batch failed %d times: %s' % (attempt, e)) from e
                LOG.debug('Retrying a batch after %s', e)
            except (db_exc.DBError, sa.exc.StatementError,
                    ValueError, OverflowError) as e:
                # Not an outage (_connect raised those): the data's fault.
                raise storage.UnstorableEvents(errors.describe(e)) from e

    def _ensure_partitions(self, events):
        """Create the partitions the batch needs, and those ahead of now.

        In a transaction of its own, and only when one is not known to
        exist already.
        """
        starts = partitions.wanted(self._partition_width,
                                   timeutils.utcnow(), events)
        if starts <= self._partition_starts:
            return
        with self._connect(transaction=True) as conn:
            self._partition_starts = partitions.ensure(
                conn, self._partition_width, starts)

    def _insert(self, conn, events):
        type_ids = self._get_event_type_ids(
            conn, {event.event_type for event in events})
        if conn.dialect.driver == 'psycopg':
            stored = pg.copy_batch(conn, events, type_ids,
                                   partitioned=bool(self._partition_width))
        else:
            stored = self._insert_batch(conn, events, type_ids)
        new = [event for event in events if event.message_id in stored]
        trait_types = self._record_trait_types(conn, new, type_ids)
        return ([event.message_id for event in new],
                [event.message_id for event in events
                 if event.message_id not in stored], trait_types)

    @staticmethod
    def _insert_batch(conn, events, type_ids):
        """Write the events not stored yet; return their message_ids."""
        existing = set(conn.scalars(
            sa.select(tables.event.c.message_id).where(
                tables.event.c.message_id.in_(
                    [event.message_id for event in events]))))
        new = [event for event in events if event.message_id not in existing]
        if not new:
            return set()
        event_ids = _insert_events(
            conn, [rows.event_row(event, type_ids) for event in new])
        traits = rows.trait_tuples((event_ids[event.message_id], event)
                                   for event in new)
        for dtype, table_rows in traits.items():
            if table_rows:
                _insert_trait_rows(conn, rows.TRAIT_TABLES[dtype],
                                   table_rows)
        return set(event_ids)

    def _insert_ignoring_duplicates(self, conn, table, rows):
        dialect = conn.dialect.name
        if dialect == 'postgresql':
            statement = postgresql.insert(table).on_conflict_do_nothing()
        elif dialect == 'sqlite':
            statement = sqlite.insert(table).on_conflict_do_nothing()
        else:
            statement = table.insert().prefix_with('IGNORE')
        conn.execute(statement, rows)

    def _get_event_type_ids(self, conn, names):
        """Ids of the named event types, creating the missing ones.

        They are created in the batch's transaction, so the expirer cannot
        remove them as unused before the batch's events refer to them.
        """
        cached = {name: self._event_type_ids.get(name) for name in names}
        ids = {name: id_ for name, id_ in cached.items() if id_ is not None}
        missing = names - ids.keys()
        if missing:
            self._insert_ignoring_duplicates(
                conn, tables.event_type,
                [{'desc': name} for name in sorted(missing)])
            created = dict(conn.execute(
                sa.select(tables.event_type.c.desc, tables.event_type.c.id)
                .where(tables.event_type.c.desc.in_(missing))).all())
            ids.update(created)
            self._event_type_ids.update(created)
        return ids

    def _record_trait_types(self, conn, events, type_ids):
        """Record the trait types of the events; return those recorded."""
        seen = {(type_ids[event.event_type], trait.name, trait.dtype)
                for event in events for trait in event.traits}
        unknown = seen - self._known_trait_types
        if unknown:
            self._insert_ignoring_duplicates(
                conn, tables.trait_type,
                [{'event_type_id': type_id, 'key': key, 'dtype': dtype}
                 for type_id, key, dtype in sorted(unknown)])
        return unknown

    # Reading

    def get_events(self, event_filter, pagination=None, raw_as_json=False):
        pagination = pagination or models.Pagination()
        order = pagination.sort_order()
        owner_branches = self._owner_branches(event_filter)
        with self._connect(replica=True) as conn:
            if pagination.marker:
                after_marker = self._after_marker(
                    conn, owner_branches, pagination.marker, order)
            conditions = self._conditions(conn, event_filter)
            if conditions is None:
                return []
            if pagination.marker:
                conditions.append(after_marker)
            with self._page_plan(conn, event_filter):
                rows = conn.execute(self._page_query(
                    conditions, owner_branches, order,
                    pagination.limit)).all()
            traits = self._traits_of(conn, rows)
        decode = _raw_text if raw_as_json else _raw_document
        return [models.Event(message_id=row.message_id,
                             event_type=row.event_type,
                             generated=row.generated,
                             traits=traits.get(row.id, []),
                             raw=decode(row.raw))
                for row in rows]

    def _conditions(self, conn, event_filter):
        """SQL conditions for everything but the ownership restriction.

        None when no event can match (an event type that does not
        exist), so that the caller answers without a query.
        """
        event = tables.event
        conditions = []
        if event_filter.event_type is not None:
            type_id = conn.scalar(sa.select(tables.event_type.c.id).where(
                tables.event_type.c.desc == event_filter.event_type))
            if type_id is None:
                return None
            conditions.append(event.c.event_type_id == type_id)
        if event_filter.message_id is not None:
            conditions.append(event.c.message_id == event_filter.message_id)
        if event_filter.start_timestamp is not None:
            conditions.append(
                event.c.generated >= event_filter.start_timestamp)
        if event_filter.end_timestamp is not None:
            conditions.append(event.c.generated <= event_filter.end_timestamp)
        for trait_filter in event_filter.traits_filter:
            conditions.append(self._trait_condition(trait_filter))
        return conditions

    @staticmethod
    def _trait_condition(trait_filter):
        matches = Connection._trait_matches(trait_filter)
        if matches is None:
            # Same values as the trait, but indexed with the listing order.
            return _COMPARATORS[trait_filter.op](
                tables.event.c[trait_filter.name], trait_filter.value)
        return tables.event.c.id.in_(matches)

    @staticmethod
    def _trait_matches(trait_filter):
        """The ids of the events whose trait matches, as a select.

        None for an owner trait, which ``event`` holds itself.
        """
        if (trait_filter.name in rows.OWNER_COLUMNS
                and trait_filter.dtype == models.Trait.TEXT_TYPE):
            return None
        table = rows.TRAIT_TABLES[trait_filter.dtype]
        return sa.select(table.c.event_id).where(
            table.c.key == trait_filter.name,
            _COMPARATORS[trait_filter.op](table.c.value, trait_filter.value))

    @staticmethod
    def _page_plan(conn, event_filter):
        """On MySQL/MariaDB, probe trait filters that all match many rows.

        See panko.storage.sqlalchemy.mysql.
        """
        if conn.dialect.name != 'mysql':
            return contextlib.nullcontext()
        matches = [select for select in map(Connection._trait_matches,
                                            event_filter.traits_filter)
                   if select is not None]
        if matches and all(mysql.dense(conn, select) for select in matches):
            return mysql.probing_traits(conn)
        return contextlib.nullcontext()

    @staticmethod
    def _owner_branches(event_filter):
        """The ownership restriction as alternatives to query separately.

        "Project P or no project" is two index range scans in listing
        order; an OR in one query would make most engines sort every
        matching event instead.
        """
        event = tables.event
        user = ([event.c.user_id == event_filter.user_id]
                if event_filter.user_id is not None else [])
        if event_filter.project_id is None:
            return [sa.and_(sa.true(), *user)]
        projects = [event.c.project_id == event_filter.project_id]
        if event_filter.include_unowned:
            projects.append(event.c.project_id.is_(None))
        return [sa.and_(project, *user) for project in projects]

    @staticmethod
    def _after_marker(conn, owner_branches, marker, order):
        """The keyset condition "comes after the marker event".

        The marker is looked up among the events the caller may see; see
        base.after_marker.
        """
        event = tables.event
        row = conn.execute(
            sa.select(event.c.generated, event.c.message_id).where(
                event.c.message_id == marker, sa.or_(*owner_branches))
        ).first()
        leading, alternatives = base.after_marker(
            marker, None if row is None else row._mapping, order)

        def compared(key, op, value):
            return _COMPARATORS[op](event.c[key], value)

        return sa.and_(compared(*leading), sa.or_(*(
            sa.and_(*(compared(*comparison) for comparison in alternative))
            for alternative in alternatives)))

    @staticmethod
    def _page_query(conditions, owner_branches, order, limit):
        """The events of the page, then the names of their types.

        The page is chosen from ``event`` alone and joined to
        ``event_type`` afterwards: with the join inside, MariaDB reads
        the event types first and sorts every event instead of reading
        the page in index order.
        """
        event, event_type = tables.event, tables.event_type

        def ordered(columns):
            return [columns[key].asc() if direction == 'asc'
                    else columns[key].desc() for key, direction in order]

        def limited(query):
            return query.limit(limit) if limit is not None else query

        def select_page(owner_condition):
            return limited(sa.select(
                event.c.id, event.c.message_id, event.c.generated,
                event.c.raw, event.c.event_type_id,
            ).where(owner_condition, *conditions).order_by(
                *ordered(event.c)))

        if len(owner_branches) == 1:
            page = select_page(owner_branches[0]).subquery('page')
        else:
            union = sa.union_all(*(
                sa.select(select_page(branch).subquery())
                for branch in owner_branches)).subquery()
            page = limited(sa.select(union).order_by(
                *ordered(union.c))).subquery('page')
        return sa.select(
            page.c.id, page.c.message_id, page.c.generated, page.c.raw,
            event_type.c.desc.label('event_type'),
        ).join(event_type, event_type.c.id == page.c.event_type_id
               ).order_by(*ordered(page.c))

    def _traits_of(self, conn, events):
        """Traits of the event rows, in one round trip, sorted by name."""
        if not events:
            return {}
        traits = {}
        parameters = {'event_ids': [event.id for event in events]}
        if self._partition_width:
            times = [event.generated for event in events]
            parameters.update(first=min(times), last=max(times))
        # One fetchall: row by row costs more.
        rows = conn.execute(_traits_query(conn.dialect.name,
                                          bool(self._partition_width)),
                            parameters).all()
        # Indexing the rows costs less than unpacking them: 1,600 a page.
        for row in rows:
            dtype = row[2]
            traits.setdefault(row[0], []).append(
                models.Trait(row[1], dtype, row[_VALUE_COLUMN[dtype]]))
        for event_traits in traits.values():
            event_traits.sort(key=_BY_NAME)
        return traits

    def get_event_types(self):
        with self._connect(replica=True) as conn:
            return list(conn.scalars(
                sa.select(tables.event_type.c.desc)
                .order_by(tables.event_type.c.desc)))

    def get_trait_types(self, event_type):
        trait_type, types = tables.trait_type, tables.event_type
        with self._connect(replica=True) as conn:
            rows = conn.execute(
                sa.select(trait_type.c.key, trait_type.c.dtype)
                .join(types, types.c.id == trait_type.c.event_type_id)
                .where(types.c.desc == event_type)
                .order_by(trait_type.c.key, trait_type.c.dtype)).all()
        return [{'name': row.key, 'data_type': row.dtype} for row in rows]

    def get_traits(self, event_type, trait_name=None):
        event, types = tables.event, tables.event_type
        traits = []
        with self._connect(replica=True) as conn:
            for dtype, table in rows.TRAIT_TABLES.items():
                query = sa.select(table.c.key, table.c.value).join(
                    event, event.c.id == table.c.event_id).join(
                    types, types.c.id == event.c.event_type_id).where(
                    types.c.desc == event_type)
                if trait_name is not None:
                    query = query.where(table.c.key == trait_name)
                traits.extend(models.Trait(row.key, dtype, row.value)
                              for row in conn.execute(query))
        return traits

    # Retention

    @oslo_db_api.wrap_db_retry(max_retries=WRITE_ATTEMPTS,
                               retry_on_deadlock=True)
    def _delete_expired_events(self, selector, limit):
        event = tables.event
        with self._connect(transaction=True) as conn:
            ids = list(conn.scalars(
                sa.select(event.c.id).where(*self._selected(selector))
                .order_by(event.c.generated).limit(limit)))
            if ids:
                # Partitioned, only the partitions before the cutoff.
                bound = ([_GENERATED < selector.cutoff]
                         if self._partition_width else [])
                for table in rows.TRAIT_TABLES.values():
                    conn.execute(table.delete().where(
                        table.c.event_id.in_(ids), *bound))
                conn.execute(event.delete().where(event.c.id.in_(ids)))
        return len(ids) or None

    def _drop_expired_partitions(self, cutoff):
        if not self._partition_width:
            return 0
        dropped = partitions.drop_expired(self._engine, cutoff)
        self._partition_starts = set()
        return dropped

    @staticmethod
    def _selected(selector):
        """The conditions of a retention.Selector on the event table."""
        event, event_type = tables.event, tables.event_type
        conditions = [event.c.generated < selector.cutoff]
        if selector.event_types is not None:
            conditions.append(event.c.event_type_id.in_(
                sa.select(event_type.c.id).where(
                    event_type.c.desc.in_(sorted(selector.event_types)))))
        if selector.project_id is not None:
            conditions.append(event.c.project_id == selector.project_id)
        elif selector.excluded_projects:
            conditions.append(sa.or_(
                event.c.project_id.is_(None),
                event.c.project_id.not_in(
                    sorted(selector.excluded_projects))))
        return conditions

    @oslo_db_api.wrap_db_retry(
        max_retries=WRITE_ATTEMPTS, retry_on_deadlock=True,
        # A writer has just used the type again: look again.
        exception_checker=lambda e: isinstance(e, db_exc.DBReferenceError))
    def _delete_unused_event_types(self):
        event, trait_type, event_type = (
            tables.event, tables.trait_type, tables.event_type)

        def unused(type_id):
            return ~sa.exists(sa.select(event.c.id).where(
                event.c.event_type_id == type_id))

        with self._connect(transaction=True) as conn:
            conn.execute(trait_type.delete().where(
                unused(trait_type.c.event_type_id)))
            removed = conn.execute(event_type.delete().where(
                unused(event_type.c.id))).rowcount
        self._forget_cached_ids()
        return removed

    # Dead letters

    def record_dead_letters(self, letters):
        rows = [base.dead_letter_fields(letter) for letter in letters]
        if not rows:
            return
        try:
            with self._connect(transaction=True) as conn:
                conn.execute(tables.dead_letter.insert(), rows)
        except db_exc.DBError as e:
            raise storage.StorageError(
                'cannot store dead letters: %s' % errors.describe(e)) from e

    def get_dead_letters(self, limit=None, after_id=None, door=None):
        dead_letter = tables.dead_letter
        query = sa.select(dead_letter).where(
            *self._dead_letter_conditions(door)).order_by(dead_letter.c.id)
        if after_id is not None:
            query = query.where(dead_letter.c.id > after_id)
        if limit is not None:
            query = query.limit(limit)
        with self._connect() as conn:
            rows = conn.execute(query).all()
        return [base.dead_letter_from_fields(row.id, row._mapping)
                for row in rows]

    @staticmethod
    def _dead_letter_conditions(door):
        if door is None:
            return []
        return [tables.dead_letter.c.door == door]

    def count_dead_letters(self, door=None):
        with self._connect() as conn:
            return conn.scalar(
                sa.select(sa.func.count()).select_from(tables.dead_letter)
                .where(*self._dead_letter_conditions(door)))

    def update_dead_letter_reason(self, letter_id, reason):
        dead_letter = tables.dead_letter
        with self._connect(transaction=True) as conn:
            conn.execute(dead_letter.update().where(
                dead_letter.c.id == letter_id).values(
                reason=safe_text.printable(
                    reason, models.MAX_DEAD_LETTER_REASON)))

    def delete_dead_letters(self, ids=None):
        dead_letter = tables.dead_letter
        with self._connect(transaction=True) as conn:
            if ids is None:
                return conn.execute(dead_letter.delete()).rowcount
            ids = list(ids)
            return sum(
                conn.execute(dead_letter.delete().where(
                    dead_letter.c.id.in_(
                        ids[start:start + base.EXPIRY_CHUNK]))
                ).rowcount
                for start in range(0, len(ids), base.EXPIRY_CHUNK))
