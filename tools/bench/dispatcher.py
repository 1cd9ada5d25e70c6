"""End to end: RabbitMQ -> panko-dispatcher -> PostgreSQL.

For each message size (events per message) and worker count, a case
creates an empty database, publishes the generator's events, signed, to a
private exchange exactly as Ceilometer's ``notifier://`` publisher does
(one oslo.messaging ``Notifier.sample()`` per message), then starts
``panko-dispatcher`` on that backlog and times how fast it drains it:

* ``steady``: from the first stored event to the last;
* ``with start-up``: from launching the process to the last event.

It also records the largest RSS of a worker, and the CPU time per event
of the dispatcher, of RabbitMQ and of PostgreSQL during the drain: on a
machine that runs all three, those say how far more workers can go.
"""

import contextlib
import itertools
import os
import subprocess
import sys
import tempfile
import time

import psutil
import sqlalchemy as sa

from bench import databases
from bench import generator
from harness import messaging
from harness import processes
from panko.ingestion import signature

SECRET = 'benchmark-secret'
DATABASE = databases.NAME + '_dispatcher'


def run(events, sizes, workers, seed, batch_size=None, prefetch=None,
        timeout=900):
    """Every (message size, worker count) case; a list of result rows."""
    wire_events = [to_wire(event) for event in itertools.islice(
        generator.generate(events, seed), events)]
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for size in sizes:
            messages = [wire_events[i:i + size]
                        for i in range(0, len(wire_events), size)]
            for count in workers:
                rows.append(run_case(messages, size, count, workdir,
                                     batch_size, prefetch, timeout))
    return rows


def to_wire(event):
    """A generated event as Ceilometer serializes and signs it."""
    def text(value):
        return value.isoformat() if hasattr(value, 'isoformat') else value
    serialized = {
        'message_id': event.message_id,
        'event_type': event.event_type,
        'generated': event.generated.isoformat(),
        'traits': [[trait.name, trait.dtype, text(trait.value)]
                   for trait in event.traits],
        'raw': event.raw,
    }
    serialized['message_signature'] = signature.compute_signature(
        serialized, SECRET)
    return serialized


def run_case(messages, size, workers, workdir, batch_size, prefetch,
             timeout):
    total = sum(len(message) for message in messages)
    prefix = messaging.unique_name('pbench')
    exchange, topic = prefix + '_ceilometer', prefix + '_event'
    url = databases.create('postgresql', DATABASE)
    dispatcher_options = {'event_exchange': exchange, 'event_topics': topic,
                          'telemetry_secret': SECRET, 'workers': workers}
    if batch_size:
        dispatcher_options['batch_size'] = batch_size
    try:
        config = processes.write_config(
            os.path.join(workdir, prefix + '.conf'), {
                'DEFAULT': {'transport_url': messaging.RABBIT_URL},
                'database': {'connection': url},
                'dispatcher': dispatcher_options,
                'oslo_messaging_rabbit': (
                    {'rabbit_qos_prefetch_count': prefetch}
                    if prefetch else {})})
        subprocess.run([os.path.join(os.path.dirname(sys.executable),
                                     'panko-dbsync'), '--config-file',
                        config], check=True, capture_output=True)
        started = time.monotonic()
        messaging.publish_events(exchange, topic, messages)
        publish_seconds = time.monotonic() - started
        row = drain(config, os.path.join(workdir, prefix + '.log'), url,
                    total, timeout)
    finally:
        databases.drop('postgresql', DATABASE)
        messaging.delete_topology([exchange], [topic])
    row.update({'events': total, 'events_per_message': size,
                'messages': len(messages), 'workers': workers,
                'published_events_per_s': round(total / publish_seconds)})
    return row


def drain(config, log_path, url, total, timeout):
    """Start the dispatcher on the backlog; figures once all is stored."""
    counter = processes.EventCounter(url)
    dispatcher = processes.Dispatcher(config, log_path)
    cpu_before = cpu_seconds(None)
    launched = time.monotonic()
    dispatcher.start()
    first = None
    rss = 0
    try:
        while True:
            highest = highest_id(counter.engine)
            rss = max(rss, worker_rss_mb(dispatcher.process.pid))
            cpu_after = cpu_seconds(dispatcher.process.pid)
            now = time.monotonic()
            if highest and first is None:
                first = now
            if highest >= total and counter.stored() >= total:
                break
            if now - launched > timeout:
                raise RuntimeError('only %d of %d events after %d s; see %s'
                                   % (counter.stored(), total, timeout,
                                      log_path))
            time.sleep(0.05)
    finally:
        dispatcher.stop()
    rows, distinct = counter.counts()
    counter.engine.dispose()
    if rows != total or distinct != total:
        raise RuntimeError('%d rows, %d distinct message ids for %d events'
                           % (rows, distinct, total))
    return {
        'steady_events_per_s': round(total / (now - first)),
        'with_startup_events_per_s': round(total / (now - launched)),
        'worker_rss_mb_max': rss,
        'cpu_us_per_event': {
            group: round((seconds - cpu_before.get(group, 0)) / total * 1e6)
            for group, seconds in cpu_after.items()},
    }


def highest_id(engine):
    """The largest event id: progress, for an index probe.

    Ids only grow and are never fewer than the events stored (a rolled
    back batch leaves a gap), so the drain is complete no sooner than it
    reaches the number of events; counting the rows 20 times a second
    instead would cost PostgreSQL more CPU than storing them.
    """
    with engine.connect() as conn:
        return conn.execute(sa.text('SELECT max(id) FROM event')).scalar() or 0


def worker_rss_mb(pid):
    """Largest resident set of the dispatcher's worker processes, in MB."""
    largest = 0
    with contextlib.suppress(psutil.NoSuchProcess):
        for worker in psutil.Process(pid).children():
            with contextlib.suppress(psutil.NoSuchProcess):
                largest = max(largest, worker.memory_info().rss)
    return round(largest / 2 ** 20)


def cpu_seconds(dispatcher_pid):
    """CPU seconds used so far by the dispatcher, RabbitMQ and PostgreSQL.

    The dispatcher's are its master's and workers'; the servers' are all
    their processes', the benchmark's own progress queries included (20 a
    second). A server process that ends during the drain takes its time
    away with it.
    """
    groups = {'dispatcher': 0.0, 'rabbitmq': 0.0, 'postgresql': 0.0}
    for process in psutil.process_iter(['pid', 'ppid', 'name', 'cpu_times']):
        info = process.info
        if info['cpu_times'] is None:  # not ours to read
            continue
        seconds = info['cpu_times'].user + info['cpu_times'].system
        if dispatcher_pid is not None and dispatcher_pid in (info['pid'],
                                                             info['ppid']):
            groups['dispatcher'] += seconds
        elif info['name'] == 'beam.smp':
            groups['rabbitmq'] += seconds
        elif info['name'] == 'postgres':
            groups['postgresql'] += seconds
    return groups
