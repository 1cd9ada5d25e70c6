"""Bytes per event on disk (tables and indexes) and processes' RSS."""

import psutil
import sqlalchemy as sa

from bench import databases
from panko.storage.sqlalchemy import tables

TABLE_NAMES = [table.name for table in tables.metadata.sorted_tables]


def run(url):
    """Disk used by panko's tables and their indexes, per event."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            events = conn.scalar(sa.select(sa.func.count()).select_from(
                tables.event))
            table_bytes, index_bytes = _sizes(conn)
    finally:
        engine.dispose()
    total = table_bytes + index_bytes
    return {'engine': databases.engine_of(url), 'events': events,
            'table_bytes': table_bytes, 'index_bytes': index_bytes,
            'bytes_per_event': round(total / events) if events else None}


def _sizes(conn):
    dialect = conn.dialect.name
    if dialect == 'postgresql':
        # Heap, TOAST and free-space maps; indexes apart. A partitioned
        # table's are those of its partitions (pg_partition_tree has no
        # rows for an unpartitioned one).
        return conn.execute(sa.text(
            'SELECT sum(pg_table_size(r)), sum(pg_indexes_size(r))'
            ' FROM (SELECT coalesce(t.relid, c.oid) AS r'
            ' FROM pg_class c LEFT JOIN LATERAL pg_partition_tree(c.oid) t'
            ' ON t.isleaf WHERE c.relname = ANY(:names)'
            ' AND c.relnamespace = current_schema()::regnamespace) leaves'),
            {'names': TABLE_NAMES}).one()
    if dialect == 'mysql':
        for name in TABLE_NAMES:
            conn.exec_driver_sql('ANALYZE TABLE `%s`' % name).all()
        return conn.execute(sa.text(
            'SELECT sum(data_length), sum(index_length)'
            ' FROM information_schema.tables WHERE table_schema = DATABASE()'
            ' AND table_name IN :names').bindparams(
                sa.bindparam('names', expanding=True)),
            {'names': TABLE_NAMES}).one()
    # SQLite: the whole file but its free pages; dbstat is not always
    # compiled in, so tables and indexes are not told apart.
    page_size = conn.exec_driver_sql('PRAGMA page_size').scalar()
    used = (conn.exec_driver_sql('PRAGMA page_count').scalar()
            - conn.exec_driver_sql('PRAGMA freelist_count').scalar())
    return used * page_size, 0


def rss(pids):
    """Resident set size in MB of each process id."""
    rows = []
    for pid in pids:
        process = psutil.Process(pid)
        rows.append({'pid': pid, 'name': process.name(),
                     'rss_mb': round(process.memory_info().rss / 2 ** 20, 1)})
    return rows
