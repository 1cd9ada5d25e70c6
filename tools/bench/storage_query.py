"""The query set run directly through the storage driver."""

import sqlalchemy as sa

from bench import databases
from bench import queries
from panko.storage.sqlalchemy import tables


def run(url, seed, throughput=True):
    connection = databases.connect(url)
    query_set = queries.standard_set(
        seed, lambda query, pages: _marker(connection, query, pages))
    rows = []
    for query in query_set:
        figures = queries.measure(queries.storage_call(connection, query))
        rows.append(dict(name=query.name, title=query.title, **figures))
    result = {'engine': databases.engine_of(url), 'mode': 'storage',
              'events': _count(connection), 'queries': rows}
    if throughput:
        result['q1_throughput'] = _throughput(connection, query_set[0])
    return result


def _marker(connection, query, pages):
    marker = None
    for _ in range(pages):
        query.marker = marker
        marker = queries.storage_call(connection, query)()[-1].message_id
    query.marker = None
    return marker


def _count(connection):
    with connection.engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(
            tables.event))


def _throughput(connection, query):
    """Calls per second of ``query`` from THREADS threads for SECONDS."""
    return queries.throughput(
        lambda: queries.storage_call(connection, query))

