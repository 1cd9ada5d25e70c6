#!/usr/bin/env python3
"""End-to-end ingestion speed: RabbitMQ -> panko-dispatcher -> PostgreSQL.

For each message size (events per message) and worker count, the script
creates an empty PostgreSQL database, publishes N signed events to a
private exchange exactly as Ceilometer's notifier:// publisher does (one
oslo.messaging Notifier.sample() per message, priority sample, event_type
"event"), starts ``panko-dispatcher`` with that many workers and reports
how fast it drains the backlog into the database, in events per second:

* ``steady``: from the first stored event to the last;
* ``with start-up``: from launching the process to the last event.

Usage (from the repository, after ``tools/run-tests.sh`` made .venv)::

    .venv/bin/python tools/dispatcher_benchmark.py --events 50000

Options choose the sizes, workers, database server and broker; --baseline
also times ``record_events`` alone on the same events and database, to show
how close the dispatcher gets to the storage layer's own limit; --json
writes the results with the machine's conditions.
"""

import argparse
import datetime
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid

import sqlalchemy as sa

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

from panko import storage  # noqa: E402
from panko.ingestion import recorder  # noqa: E402
from panko.ingestion import signature  # noqa: E402
from panko.ingestion import wire  # noqa: E402
from panko.tests import conftest  # noqa: E402
from panko.tests import messaging  # noqa: E402
from panko.tests import processes  # noqa: E402

SECRET = 'benchmark-secret'
EVENT_TYPES = [
    ('compute.instance.update', 30), ('compute.instance.exists', 20),
    ('identity.authenticate', 20), ('compute.instance.create.end', 5),
    ('compute.instance.delete.end', 5), ('volume.create.end', 5),
    ('port.create.end', 5), ('image.upload', 5), ('network.create.end', 5),
]


def make_event(rng, index):
    """A realistic serialized, signed event of about 1.5 KB."""
    event_type = rng.choices([t for t, _ in EVENT_TYPES],
                             [w for _, w in EVENT_TYPES])[0]
    project = 'project-%03d' % int(rng.paretovariate(1.2) % 200)
    user = 'user-%04d' % int(rng.paretovariate(1.2) % 1000)
    resource = str(uuid.UUID(int=rng.getrandbits(128)))
    when = (datetime.datetime(2026, 11, 1)
            + datetime.timedelta(seconds=rng.randrange(30 * 86400),
                                 microseconds=rng.randrange(10 ** 6)))
    traits = [
        ['service', 1, event_type.split('.')[0]],
        ['request_id', 1, 'req-' + str(uuid.UUID(int=rng.getrandbits(128)))],
        ['user_id', 1, user],
        ['resource_id', 1, resource],
        ['host', 1, 'compute-%02d' % rng.randrange(40)],
        ['state', 1, rng.choice(['active', 'building', 'deleted'])],
        ['display_name', 1, 'vm-%d' % rng.randrange(10 ** 6)],
        ['memory_mb', 2, rng.choice([512, 2048, 4096, 8192])],
        ['disk_gb', 2, rng.choice([1, 20, 40, 80])],
        ['vcpus', 2, rng.choice([1, 2, 4, 8])],
        ['progress', 2, rng.randrange(101)],
        ['load', 3, round(rng.random(), 4)],
        ['launched_at', 4, when.isoformat()],
        ['created_at', 4, (when - datetime.timedelta(seconds=30))
         .isoformat()],
    ]
    if not event_type.startswith('identity.'):
        traits[2:2] = [['project_id', 1, project], ['tenant_id', 1, project]]
    event = {
        'message_id': str(uuid.UUID(int=rng.getrandbits(128))),
        'event_type': event_type,
        'generated': when.isoformat(),
        'traits': traits,
        'raw': {'event_type': event_type,
                'publisher_id': 'compute.compute-01',
                'payload': {'instance_id': resource, 'tenant_id': project,
                            'user_id': user, 'seq': index,
                            'image_meta': {'base_image_ref': resource,
                                           'min_disk': '20'},
                            'fixed_ips': [{'address': '10.0.%d.%d' % (
                                index % 250, index % 200), 'version': 4}],
                            'notes': 'x' * rng.randrange(400, 900)}},
    }
    event['message_signature'] = signature.compute_signature(event, SECRET)
    return event


def make_messages(total, per_message, seed):
    rng = random.Random(seed)
    events = [make_event(rng, i) for i in range(total)]
    return [events[i:i + per_message]
            for i in range(0, total, per_message)]


def create_database(server_url):
    name = 'panko_bench_%s' % uuid.uuid4().hex[:10]
    server = sa.create_engine(server_url, isolation_level='AUTOCOMMIT')
    with server.connect() as conn:
        conn.execute(sa.text('CREATE DATABASE %s' % name))
    server.dispose()
    url = sa.engine.make_url(server_url).set(database=name)
    return name, url.render_as_string(hide_password=False)


def drop_database(server_url, name):
    server = sa.create_engine(server_url, isolation_level='AUTOCOMMIT')
    with server.connect() as conn:
        conn.execute(sa.text('DROP DATABASE %s WITH (FORCE)' % name))
    server.dispose()


def run_case(args, messages, per_message, workers, workdir):
    total = sum(len(m) for m in messages)
    prefix = messaging.unique_name('pbench')
    exchange, topic = prefix + '_ceilometer', prefix + '_event'
    name, url = create_database(args.postgresql)
    prefetch = ({'rabbit_qos_prefetch_count': args.prefetch}
                if args.prefetch else {})
    try:
        config = processes.write_config(
            os.path.join(workdir, prefix + '.conf'), {
                'DEFAULT': {'transport_url': messaging.RABBIT_URL},
                'database': {'connection': url},
                'dispatcher': {'event_exchange': exchange,
                               'event_topics': topic,
                               'telemetry_secret': SECRET,
                               'workers': workers,
                               'batch_size': args.batch_size},
                'oslo_messaging_rabbit': prefetch})
        subprocess.run([os.path.join(os.path.dirname(sys.executable),
                                     'panko-dbsync'), '--config-file',
                        config], check=True, capture_output=True)
        baseline = (record_baseline(messages, url) if args.baseline
                    else None)
        start = time.monotonic()
        messaging.publish_events(exchange, topic, messages)
        publish_seconds = time.monotonic() - start
        counter = processes.EventCounter(url)
        dispatcher = processes.Dispatcher(
            config, os.path.join(workdir, prefix + '.log'))
        launched = time.monotonic()
        dispatcher.start()
        first = None
        rss = 0
        while True:
            stored = counter.stored()
            rss = max(rss, worker_rss_mb(dispatcher.process.pid))
            now = time.monotonic()
            if stored and first is None:
                first = now
            if stored >= total:
                break
            if now - launched > args.timeout:
                raise RuntimeError('only %d of %d events after %ds; see %s'
                                   % (stored, total, args.timeout,
                                      dispatcher.log_path))
            time.sleep(0.05)
        dispatcher.stop()
        rows = counter.counts()
        counter.engine.dispose()
        return {
            'events': total, 'events_per_message': per_message,
            'workers': workers, 'stored_rows': rows[0],
            'distinct_message_ids': rows[1],
            'publish_events_per_s': round(total / publish_seconds),
            'steady_events_per_s': round(total / (now - first)),
            'with_startup_events_per_s': round(total / (now - launched)),
            'worker_rss_mb_max': rss,
            'record_events_alone_events_per_s': baseline,
        }
    finally:
        drop_database(args.postgresql, name)
        messaging.delete_topology([exchange], [topic])


def worker_rss_mb(pid):
    """Largest resident set of the dispatcher's worker processes, in MB."""
    largest = 0
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/status' % entry) as f:
                status = dict(line.split(':', 1) for line in f)
        except (OSError, ValueError):
            continue
        if int(status.get('PPid', '0')) == pid and 'VmRSS' in status:
            largest = max(largest, int(status['VmRSS'].split()[0]))
    return round(largest / 1024)


def record_baseline(messages, url):
    """Events/s of record_events alone (in this process), same events."""
    connection = storage.get_connection(conftest.make_conf(url), url)
    events, _ = wire.parse_events([e for m in messages for e in m])
    start = time.monotonic()
    recorder.record(connection, events)
    speed = len(events) / (time.monotonic() - start)
    connection.clear()
    return round(speed)


def machine_conditions():
    load = os.getloadavg()
    return {'cpus': os.cpu_count(), 'load_average': [round(x, 2)
                                                     for x in load],
            'python': platform.python_version(),
            'platform': platform.platform(),
            'time': datetime.datetime.now(datetime.timezone.utc)
            .isoformat(timespec='seconds')}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--events', type=int, default=50000)
    parser.add_argument('--sizes', default='100,1',
                        help='events per message, comma-separated')
    parser.add_argument('--workers', default='1,2',
                        help='worker counts, comma-separated')
    parser.add_argument('--batch-size', type=int, default=100,
                        help='[dispatcher] batch_size (messages)')
    parser.add_argument('--prefetch', type=int,
                        help='[oslo_messaging_rabbit] '
                             'rabbit_qos_prefetch_count (default: the '
                             "dispatcher's)")
    parser.add_argument('--postgresql', default=os.environ.get(
        'PANKO_TEST_POSTGRESQL_URL',
        'postgresql://root@127.0.0.1:5432/postgres'))
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('--timeout', type=int, default=600)
    parser.add_argument('--baseline', action='store_true',
                        help='also time record_events alone on the same '
                             'events, to compare with the storage limit')
    parser.add_argument('--json', help='also write the results here')
    args = parser.parse_args()
    conditions = machine_conditions()
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for size in [int(s) for s in args.sizes.split(',')]:
            messages = make_messages(args.events, size, args.seed)
            for workers in [int(w) for w in args.workers.split(',')]:
                result = run_case(args, messages, size, workers, workdir)
                results.append(result)
                print('%6d events, %3d per message, %d worker(s): %6d ev/s '
                      'steady, %6d ev/s with start-up (published at %d '
                      'ev/s), worker RSS %d MB' % (
                          result['events'], size, workers,
                          result['steady_events_per_s'],
                          result['with_startup_events_per_s'],
                          result['publish_events_per_s'],
                          result['worker_rss_mb_max']), flush=True)
                if args.baseline:
                    print('%43s record_events alone: %6d ev/s' % (
                        '', result['record_events_alone_events_per_s']))
    conditions['load_average_after'] = [round(x, 2)
                                        for x in os.getloadavg()]
    print('machine: %s' % json.dumps(conditions))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'conditions': conditions, 'results': results}, f,
                      indent=2)


if __name__ == '__main__':
    main()
