"""What only PostgreSQL does: COPY batches, and a connection set-up.

PostgreSQL's write path is a batch of events as COPY, through psycopg.
COPY takes rows with the least work at both ends, less than one INSERT
statement fed with JSON documents (the previous way). Its statements go
to psycopg directly, past the engine's error handlers, so this module
maps psycopg's errors to the oslo.db exceptions SQLAlchemy would have
raised.

psycopg is imported only when a batch is written: a MySQL- or SQLite-only
deployment does not need it installed.
"""

from oslo_db import exception as db_exc

from panko.storage.sqlalchemy import rows

#: The columns of ``event`` in the order copy_batch sends them.
COPY_EVENT_COLUMNS = ('id', 'message_id', 'generated', 'event_type_id',
                      'raw') + rows.OWNER_COLUMNS


#: The columns of a trait table in the order copy_batch sends them.
COPY_TRAIT_COLUMNS = ('event_id', 'key', 'value')
#: The same in the partitioned layout.
COPY_PARTITIONED_TRAIT_COLUMNS = ('event_id', 'generated', 'key', 'value')


class PartitionMissing(db_exc.DBError):
    """A row fell outside every partition: one was dropped meanwhile.

    The partitions of a batch are created before it is copied; the
    expirer may drop one of them in between (a late event older than
    the TTL). The driver creates it again and retries the batch.
    """


def copy_batch(conn, events, type_ids, partitioned=False):
    """COPY the events not stored yet; return their message_ids.

    COPY cannot skip rows, so the events already stored are looked up
    first and their ids taken from the sequence; should a concurrent
    writer store one of them meanwhile, the unique key refuses the batch
    and the driver tries it again. The SQL is drawn from nothing but
    constants. In the partitioned layout trait rows carry their event's
    generated, and the look-up is bounded by the batch's times, so that
    it reads only the partitions those times fall in.
    """
    import psycopg

    try:
        with conn.connection.dbapi_connection.cursor() as cursor:
            message_ids = [event.message_id for event in events]
            if partitioned:
                times = [event.generated for event in events]
                cursor.execute('SELECT message_id FROM event '
                               'WHERE message_id = ANY(%s) '
                               'AND generated BETWEEN %s AND %s',
                               (message_ids, min(times), max(times)))
            else:
                cursor.execute('SELECT message_id FROM event '
                               'WHERE message_id = ANY(%s)', (message_ids,))
            existing = {message_id for message_id, in cursor}
            new = [e for e in events if e.message_id not in existing]
            if not new:
                return set()
            cursor.execute("SELECT nextval(pg_get_serial_sequence("
                           "'event', 'id')) FROM generate_series(1, %s)",
                           (len(new),))
            ids = [event_id for event_id, in cursor]
            event_rows, traits = _copy_rows(new, ids, type_ids, partitioned)
            _copy(cursor, 'event', COPY_EVENT_COLUMNS, event_rows)
            trait_columns = (COPY_PARTITIONED_TRAIT_COLUMNS if partitioned
                             else COPY_TRAIT_COLUMNS)
            for dtype, table in rows.TRAIT_TABLES.items():
                _copy(cursor, table.name, trait_columns, traits[dtype])
    except psycopg.Error as e:
        raise _as_db_error(e) from e
    return {e.message_id for e in new}


def _copy_rows(events, ids, type_ids, partitioned):
    """The rows of ``event`` and of each trait table, as tuples."""
    event_rows = []
    for event_id, event in zip(ids, events, strict=True):
        row = rows.event_row(event, type_ids)
        event_rows.append((event_id,) + tuple(
            row[name] for name in COPY_EVENT_COLUMNS[1:]))
    return event_rows, rows.trait_tuples(zip(ids, events, strict=True),
                                         with_generated=partitioned)


def _copy(cursor, table, columns, table_rows):
    if table_rows:
        with cursor.copy('COPY %s (%s) FROM STDIN'
                         % (table, ', '.join(columns))) as copy:
            for row in table_rows:
                copy.write_row(row)


def _as_db_error(error):
    """The oslo.db exception SQLAlchemy would have raised for ``error``."""
    import psycopg

    if isinstance(error, psycopg.errors.UniqueViolation):
        return db_exc.DBDuplicateEntry(inner_exception=error)
    if isinstance(error, psycopg.errors.ForeignKeyViolation):
        return db_exc.DBReferenceError(
            error.diag.table_name, error.diag.constraint_name, None, None,
            inner_exception=error)
    if (isinstance(error, psycopg.errors.CheckViolation)
            and error.diag.constraint_name is None):
        # A row no partition takes; a CHECK constraint would be named.
        return PartitionMissing(error)
    if isinstance(error, psycopg.errors.DeadlockDetected):
        return db_exc.DBDeadlock(error)
    if isinstance(error, psycopg.OperationalError):
        return db_exc.DBConnectionError(error)
    return db_exc.DBError(error)


def without_parallel_plans(dbapi_connection, connection_record):
    """Keep PostgreSQL from planning parallel workers for our queries.

    Every query panko issues reads a bounded number of rows through
    indexes; the planner still picks a parallel plan for the traits of a
    page, whose worker start-up costs more than the query itself. A
    ``connect`` event listener of the engine.
    """
    with dbapi_connection.cursor() as cursor:
        cursor.execute('SET max_parallel_workers_per_gather = 0')
    dbapi_connection.commit()
