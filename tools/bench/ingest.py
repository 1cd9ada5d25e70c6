"""Events per second through ``record_events`` into an empty store."""

import itertools
import time

from bench import databases
from bench import generator

BATCH = 100
#: Events generated ahead of timing, so generation is not measured.
CHUNK = 10000


#: Its own database, so that a store filled by ``load`` is kept.
DATABASE = databases.NAME + '_ingest'


def run(engine, count, seed, keep=False, partitioned=False):
    """Record ``count`` events in batches of 100; return the figures.

    ``partitioned``: PostgreSQL's store is partitioned by time.
    """
    url = databases.create(engine, DATABASE)
    try:
        connection = databases.connect(url, partitioned)
        elapsed = 0.0
        stored = 0
        events = generator.generate(count, seed)
        for _ in range(0, count, CHUNK):
            chunk = list(itertools.islice(events, CHUNK))
            started = time.perf_counter()
            for start in range(0, len(chunk), BATCH):
                result = connection.record_events(
                    chunk[start:start + BATCH])
                stored += len(result.stored)
            elapsed += time.perf_counter() - started
        if stored != count:
            raise RuntimeError('stored %d of %d events' % (stored, count))
    finally:
        if not keep:
            databases.drop(engine, DATABASE)
    return {'engine': engine, 'events': count, 'batch': BATCH,
            'seconds': round(elapsed, 2),
            'events_per_second': round(count / elapsed)}
