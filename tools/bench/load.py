"""Fill a store to N events quickly, with exactly what record_events writes.

Worker processes validate the generator's events, BLOCKS_PER_TASK blocks
at a time, and build their rows with the SQL driver's row builders
(``panko.storage.sqlalchemy.rows``: ``event_row``, ``trait_tuples``),
giving each event the next id. The rows are sent in bulk, in one
transaction: COPY on PostgreSQL and LOAD DATA LOCAL INFILE on
MariaDB/MySQL, both of tab-separated text, and executemany INSERTs on
SQLite. On an empty PostgreSQL store the secondary indexes are dropped
first and built once at the end. A partitioned PostgreSQL store
(``panko.storage.sqlalchemy.partitions``) gets its trait rows with their
event's generated, and the partitions of each chunk's times are created
(in a transaction of their own) before it is copied. Last, the trait
types of the events are recorded, the event types without events (of
the generator's, all created first) removed, and the tables analysed.
The store must hold the first events of the same seed, whole blocks of
them (or none): loading 1,000,000 after 100,000 adds the 900,000 that
follow.
"""

import contextlib
import datetime
import functools
import multiprocessing
import os
import sys
import tempfile
import time

import sqlalchemy as sa

from bench import databases
from bench import generator
from panko.storage.sqlalchemy import partitions
from panko.storage.sqlalchemy import rows
from panko.storage.sqlalchemy import tables

#: Generator blocks handed to a worker at a time.
BLOCKS_PER_TASK = 10
TABLES = [tables.event] + [rows.TRAIT_TABLES[dtype]
                           for dtype in sorted(rows.TRAIT_TABLES)]
#: The columns of rows.trait_tuples' rows.
TRAIT_COLUMNS = ('event_id', 'key', 'value')
PARTITIONED_TRAIT_COLUMNS = ('event_id', 'generated', 'key', 'value')


def run(url, count, seed, workers=2, partitioned=False):
    """Load to ``count`` events; ``partitioned``: a new store is so made."""
    engine = databases.engine_of(url)
    connection = databases.connect(url, partitioned)
    width = connection.partition_width
    db = connection.engine
    with db.begin() as conn:
        existing = conn.scalar(sa.select(sa.func.count()).select_from(
            tables.event))
        first_id = (conn.scalar(sa.select(sa.func.max(tables.event.c.id)))
                    or 0) + 1
    if existing % generator.BLOCK_SIZE or count <= existing:
        db.dispose()
    if existing % generator.BLOCK_SIZE:
        raise SystemExit('the store holds %d events, not whole blocks of '
                         '%d from the generator' % (existing,
                                                    generator.BLOCK_SIZE))
    if count <= existing:
        return {'engine': engine, 'events': existing, 'loaded': 0,
                'seconds': 0.0}
    type_ids = _register_event_types(db)
    started = time.perf_counter()
    first_block = existing // generator.BLOCK_SIZE
    last_block = -(-count // generator.BLOCK_SIZE)
    tasks = [(start, min(start + BLOCKS_PER_TASK, last_block))
             for start in range(first_block, last_block, BLOCKS_PER_TASK)]
    make = functools.partial(_make_rows, seed, count, first_id - existing,
                             type_ids, engine, width)
    trait_types, starts = set(), set()
    dropped = _drop_indexes(db) if engine == 'postgresql' and not existing \
        else []
    with multiprocessing.Pool(workers) as pool, _bulk_writer(db) as write:
        for number, (chunks, kinds, needed) in enumerate(
                pool.imap(make, tasks)):
            if not needed <= starts:
                with db.begin() as conn:
                    starts = partitions.ensure(conn, width, needed)
            for table, chunk in chunks.items():
                write(table, chunk)
            trait_types |= kinds
            _progress(tasks[number][1] * generator.BLOCK_SIZE, count,
                      started)
    _progress(count, count, started, 'building indexes')
    _finish(db, engine, dropped, trait_types)
    db.dispose()
    return {'engine': engine, 'events': count, 'loaded': count - existing,
            'seconds': round(time.perf_counter() - started, 1)}


def _progress(done, count, started, what='loading'):
    if done % 100000 == 0 or done == count:
        print('%s: %d of %d events after %.0f s' % (
            what, min(done, count), count, time.perf_counter() - started),
            file=sys.stderr)


def _register_event_types(db):
    """Create every type the generator makes; unused ones go at the end."""
    event_type = tables.event_type
    with db.begin() as conn:
        known = dict(conn.execute(sa.select(event_type.c.desc,
                                            event_type.c.id)).all())
        missing = [name for name in generator.event_types()
                   if name not in known]
        if missing:
            conn.execute(event_type.insert(),
                         [{'desc': name} for name in missing])
        return dict(conn.execute(sa.select(event_type.c.desc,
                                           event_type.c.id)).all())


def _make_rows(seed, count, id_offset, type_ids, engine, width, task):
    """The rows of blocks [start, end): {table: (columns, rows)}.

    The rows of a table are tuples on SQLite, bulk-load text elsewhere.
    Also the trait types of the events, and the starts of the partitions
    they need when ``width`` (seconds) says the store is partitioned.
    """
    start, end = task
    events, identified, kinds, starts = [], [], set(), set()
    number = start * generator.BLOCK_SIZE
    for block in range(start, end):
        for event in generator.make_block(seed, block):
            if number >= count:
                break
            event = event.validated()
            event_id = number + id_offset + 1
            events.append(dict(rows.event_row(event, type_ids), id=event_id))
            identified.append((event_id, event))
            kinds.update((type_ids[event.event_type], trait.name, trait.dtype)
                         for trait in event.traits)
            if width:
                starts.add(partitions.start_of(event.generated, width))
            number += 1
    chunks = {tables.event.name: (tuple(events[0]),
                                  [tuple(row.values()) for row in events])}
    trait_columns = PARTITIONED_TRAIT_COLUMNS if width else TRAIT_COLUMNS
    for dtype, table_rows in rows.trait_tuples(
            identified, with_generated=bool(width)).items():
        chunks[rows.TRAIT_TABLES[dtype].name] = (trait_columns, table_rows)
    return {name: (columns, table_rows if engine == 'sqlite'
                   else _as_text(table_rows))
            for name, (columns, table_rows) in chunks.items()
            if table_rows}, kinds, starts


def _as_text(table_rows):
    """Tab-separated lines, the text format of COPY and LOAD DATA."""
    lines = ['\t'.join(_field(value) for value in row) for row in table_rows]
    return ('\n'.join(lines) + '\n').encode()


def _field(value):
    if value is None:
        return '\\N'
    if isinstance(value, datetime.datetime):
        return value.isoformat(' ')
    if isinstance(value, str):
        return (value.replace('\\', '\\\\').replace('\t', '\\t')
                .replace('\n', '\\n').replace('\r', '\\r'))
    return repr(value)


def _bulk_writer(db):
    """A context giving a function that writes one chunk to a table."""
    return {'postgresql': _copy_writer, 'mysql': _load_data_writer}.get(
        db.dialect.name, _insert_writer)(db)


@contextlib.contextmanager
def _copy_writer(db):
    with db.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()

        def write(table, chunk):
            names, data = chunk
            with cursor.copy('COPY %s (%s) FROM STDIN' % (
                    table, ', '.join(names))) as copy:
                copy.write(data)
        yield write


@contextlib.contextmanager
def _load_data_writer(db):
    loader = sa.create_engine(db.url, connect_args={'local_infile': True},
                              poolclass=sa.pool.NullPool)
    with tempfile.TemporaryDirectory() as directory, \
            loader.begin() as conn:
        path = os.path.join(directory, 'chunk.tsv')

        def write(table, chunk):
            names, data = chunk
            with open(path, 'wb') as output:
                output.write(data)
            conn.exec_driver_sql(
                "LOAD DATA LOCAL INFILE '%s' INTO TABLE `%s` "
                "CHARACTER SET utf8mb4 (%s)"
                % (path, table, ', '.join('`%s`' % n for n in names)))
        yield write


@contextlib.contextmanager
def _insert_writer(db):
    by_name = {table.name: table for table in TABLES}
    with db.begin() as conn:
        def write(table, chunk):
            names, table_rows = chunk
            conn.execute(by_name[table].insert(),
                         [dict(zip(names, row, strict=True))
                          for row in table_rows])
        yield write


def _drop_indexes(db):
    """Drop the plain secondary indexes; return their definitions.

    A partitioned table's index is defined ``ON ONLY`` the table, which
    would create it on no partition: it is created on the table and its
    partitions instead.
    """
    with db.begin() as conn:
        definitions = conn.execute(sa.text(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid)"
            " FROM pg_index WHERE indrelid = ANY(CAST(:tables AS regclass[]))"
            " AND NOT indisunique"), {'tables': [t.name for t in TABLES]}
        ).all()
        for name, _ in definitions:
            conn.execute(sa.text('DROP INDEX %s' % name))
    return [definition.replace(' ON ONLY ', ' ON ', 1)
            for _, definition in definitions]


def _finish(db, engine, dropped, trait_types):
    """Rebuild indexes, record trait types, drop unused event types."""
    with db.begin() as conn:
        if dropped:
            conn.execute(sa.text("SET maintenance_work_mem = '512MB'"))
        for definition in dropped:
            conn.execute(sa.text(definition))
        trait_type = tables.trait_type
        known = set(conn.execute(sa.select(
            trait_type.c.event_type_id, trait_type.c.key,
            trait_type.c.dtype)).all())
        new = sorted(trait_types - known)
        if new:
            conn.execute(trait_type.insert(), [
                {'event_type_id': type_id, 'key': key, 'dtype': dtype}
                for type_id, key, dtype in new])
        event = tables.event
        conn.execute(tables.event_type.delete().where(~sa.exists(
            sa.select(event.c.id).where(
                event.c.event_type_id == tables.event_type.c.id))))
        if engine == 'postgresql':
            conn.execute(sa.text(
                "SELECT setval(pg_get_serial_sequence('event', 'id'), "
                "(SELECT max(id) FROM event))"))
    _analyze(db, engine)


def _analyze(db, engine):
    with db.connect() as conn:
        conn = conn.execution_options(isolation_level='AUTOCOMMIT')
        if engine == 'postgresql':
            conn.execute(sa.text('VACUUM ANALYZE'))
        elif engine == 'mysql':
            for table in TABLES:
                conn.execute(sa.text('ANALYZE TABLE `%s`' % table.name))
        else:
            conn.execute(sa.text('ANALYZE'))
