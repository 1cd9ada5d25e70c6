"""Expiring one day of a loaded store while it is written and read.

The cutoff is one day and BOUNDARY past the start of the day holding the
oldest event: the oldest day goes, and BOUNDARY of the next (a
partitioned store drops the first day's partition and deletes the rest
row by row; an unpartitioned one deletes it all row by row). Meanwhile
one process records batches of 100 events generated now, at ``rate``
events/s, another lists pages (the newest events, and a project's) as
fast as it can, and a thread of this one polls pg_stat_activity every
POLL seconds for their sessions waiting on a lock.

Reported: the seconds clear_expired_data took and the events it expired,
the CPU seconds the expirer's PostgreSQL sessions spent (psutil, on this
machine's server: a figure the other work running on it does not
inflate as much as the seconds), the longest a write or a query of the
other sessions was seen waiting on a lock (an upper bound: the time
since its statement began), the slowest batch and query before and
during the expiry, and the load average.
PostgreSQL only.
"""

import datetime
import multiprocessing
import os
import threading
import time
import uuid

from oslo_utils import timeutils
import psutil
import sqlalchemy as sa

from bench import databases
from bench import generator
from panko.storage import models
from panko.storage.sqlalchemy import partitions
from panko.storage.sqlalchemy import tables

BOUNDARY = datetime.timedelta(hours=1)
POLL = 0.005
#: Seconds of writes and reads before and after the expiry.
SETTLE = 5
APPS = {'ingest': 'panko-bench-ingest', 'query': 'panko-bench-query',
        'expire': 'panko-bench-expire'}


def run(url, rate=1000):
    expirer = databases.connect(_named(url, 'expire'))
    with expirer.engine.connect() as conn:
        oldest = conn.scalar(sa.select(sa.func.min(tables.event.c.generated)))
    cutoff = partitions.start_of(oldest, 86400) + datetime.timedelta(
        days=1) + BOUNDARY
    stop = multiprocessing.Event()
    results = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=target, args=(
        _named(url, name), stop, results, rate))
        for name, target in (('ingest', _ingest), ('query', _query))]
    waits = []
    monitor = threading.Thread(target=_monitor, args=(url, stop, waits))
    load_before = os.getloadavg()
    monitor.start()
    for worker in workers:
        worker.start()
    time.sleep(SETTLE)
    started = time.time()
    ttl = int((timeutils.utcnow() - cutoff).total_seconds())
    cpu = _session_cpu(expirer)
    expired = expirer.clear_expired_data(ttl)
    ended = time.time()
    cpu = _session_cpu(expirer) - cpu
    time.sleep(SETTLE)
    stop.set()
    timings = dict(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    monitor.join()
    expirer.engine.dispose()
    row = {'engine': 'postgresql',
           'partitioned': expirer.partition_width is not None,
           'expired': expired, 'seconds': round(ended - started, 2),
           'server_cpu_seconds': round(cpu, 2),
           'longest_lock_wait_ms': round(max(waits, default=0) * 1000, 1),
           'load_before': [round(x, 2) for x in load_before],
           'load_after': [round(x, 2) for x in os.getloadavg()]}
    for name, samples in timings.items():
        before = [s for at, s in samples if at < started]
        during = [s for at, s in samples if started <= at <= ended]
        row['%s_max_ms_before' % name] = _ms(max(before, default=0))
        row['%s_max_ms_during' % name] = _ms(max(during, default=0))
        row['%s_calls_during' % name] = len(during)
    return row


def _session_cpu(connection):
    """CPU seconds of the server processes of the expirer's sessions.

    The pool keeps them open between the two readings.
    """
    with connection.engine.connect() as conn:
        pids = conn.execute(sa.text(
            'SELECT pid FROM pg_stat_activity WHERE application_name = :n'),
            {'n': APPS['expire']}).scalars().all()
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _ms(seconds):
    return round(seconds * 1000, 1)


def _named(url, name):
    """``url`` with the application_name of one of our sessions."""
    return sa.engine.make_url(url).update_query_dict(
        {'application_name': APPS[name]}).render_as_string(
            hide_password=False)


def _timed(action):
    """(time.time() at the end, seconds) of one call."""
    started = time.perf_counter()
    action()
    return time.time(), time.perf_counter() - started


def _ingest(url, stop, results, rate):
    connection = databases.connect(url)
    events = [e for block in range(3) for e in generator.make_block(7, block)]
    samples, number = [], 0
    while not stop.is_set():
        batch = []
        for event in events[number % len(events):][:100]:
            batch.append(models.Event(
                uuid.uuid4().hex, event.event_type, timeutils.utcnow(),
                event.traits, event.raw))
        number += len(batch)
        samples.append(_timed(lambda b=batch: connection.record_events(b)))
        time.sleep(max(0, len(batch) / rate - samples[-1][1]))
    results.put(('ingest', samples))


def _query(url, stop, results, rate):
    connection = databases.connect(url)
    newest = models.Pagination(limit=100, sort=[('generated', 'desc')])
    samples = []
    while not stop.is_set():
        for event_filter in (models.EventFilter(),
                             models.EventFilter(project_id=_project(),
                                                include_unowned=False)):
            samples.append(_timed(lambda f=event_filter: connection.get_events(
                f, newest)))
    results.put(('query', samples))


def _project():
    """The busiest project of the loader's default seed."""
    return generator.universe(0).projects[0]


def _monitor(url, stop, waits):
    """Note, each POLL, how long our writers and readers have waited."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        while not stop.is_set():
            waits.extend(conn.execute(sa.text(
                'SELECT extract(epoch FROM clock_timestamp() - query_start)'
                ' FROM pg_stat_activity WHERE wait_event_type = :lock'
                ' AND application_name = ANY(:apps)'),
                {'lock': 'Lock',
                 'apps': [APPS['ingest'], APPS['query']]}).scalars())
            conn.rollback()
            time.sleep(POLL)
    engine.dispose()
