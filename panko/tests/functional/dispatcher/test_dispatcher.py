"""panko-dispatcher as a process, fed through the real RabbitMQ.

Messages are published exactly as Ceilometer's notifier:// publisher and
the OpenStack services publish them (oslo.messaging Notifier, captured
payloads), and read back from the store. Every test has its own
exchanges, topics and queues, and removes them.
"""

import copy
import json
import os
import re
import signal
import threading
import types

import psutil
import pytest
import sqlalchemy as sa
import webtest

from harness import messaging
from harness import processes
from panko import storage
from panko.api import app
from panko.ingestion import definitions
from panko.ingestion import signature
from panko.ingestion import wire
from panko.storage import models
from panko.tests import backends
from panko.tests import contract
from panko.tests import refusals
from panko.tests.functional.api.data import ADMIN

SERVICES = ('nova', 'cinder', 'neutron', 'glance', 'keystone', 'heat')


@pytest.fixture
def bus():
    backends.require_broker()
    prefix = messaging.unique_name('ptest')
    names = types.SimpleNamespace(
        prefix=prefix, exchange=prefix + '_ceilometer',
        topic=prefix + '_event', raw_topic=prefix + '_notifications',
        service_exchanges=['%s_%s' % (prefix, s) for s in SERVICES])
    names.queue = names.topic + '.sample'
    yield names
    messaging.delete_topology([names.exchange] + names.service_exchanges,
                              [names.topic, names.raw_topic])


@pytest.fixture
def db_url(request, tmp_path):
    """A migrated PostgreSQL database, or of the engine parametrized."""
    engine = getattr(request, 'param', 'postgresql')
    with backends.temporary_database(engine, str(tmp_path)) as url:
        connection = storage.get_connection(backends.make_conf(url), url)
        connection.upgrade()
        yield url


@pytest.fixture
def start_dispatcher(tmp_path, bus, db_url):
    """Start dispatchers with options for [dispatcher]; stop them after."""
    started = []

    def start(name='dispatcher', **options):
        dispatcher_options = {
            'event_exchange': bus.exchange, 'event_topics': bus.topic,
            'telemetry_secret': contract.SECRET, 'batch_timeout': 1,
            'requeue_delay_max': 1,
        }
        dispatcher_options.update(options)
        config = processes.write_config(str(tmp_path / (name + '.conf')), {
            'DEFAULT': {'transport_url': messaging.RABBIT_URL},
            'database': {'connection': db_url},
            'storage': {'max_retries': 10, 'retry_interval': 1},
            'dispatcher': dispatcher_options,
        })
        dispatcher = processes.Dispatcher(config,
                                          str(tmp_path / (name + '.log')))
        started.append(dispatcher.start())
        return dispatcher

    yield start
    for dispatcher in started:
        dispatcher.stop()
    for dispatcher in started:
        log = dispatcher.log()
        assert 'Callback raised an exception' not in log
        assert 'Unexpected error' not in log


def stored_events(url):
    connection = storage.get_connection(backends.make_conf(url), url)
    return {e.message_id: e for e in connection.get_events(
        models.EventFilter())}


def api_events(url):
    """Every event, as GET /v2/events shows it to an admin."""
    api = webtest.TestApp(app.load_app(backends.make_conf(
        url, api__auth_mode='noauth')))
    listing = api.get('/v2/events?q.field=all_tenants&q.value=True',
                      headers=ADMIN).json
    return {event['message_id']: event for event in listing}


def wait_until_consuming(queue, consumers=1):
    processes.wait_for(lambda: messaging.queue_depth(queue)[1] >= consumers,
                       30, what='%d consumers on %s' % (consumers, queue))


def synthetic_messages(count, per_message, prefix):
    """``count`` events as serialized by Ceilometer, unsigned."""
    events = [{'message_id': '%s-%06d' % (prefix, i),
               'event_type': 'compute.instance.update',
               'generated': '2026-11-25T03:%02d:%02d.%06d' % (
                   i // 60 % 60, i % 60, i),
               'traits': [['resource_id', 1, 'vm-%d' % (i % 97)],
                          ['project_id', 1, 'p-%d' % (i % 7)],
                          ['memory_mb', 2, 512], ['load', 3, 0.5]],
               'raw': {}, 'message_signature': ''}
              for i in range(count)]
    return [events[i:i + per_message]
            for i in range(0, count, per_message)]


def test_ceilometer_messages_stored_and_forgeries_rejected(
        bus, db_url, start_dispatcher):
    batch = contract.fixture_events('event_sample_signed_batch3')
    single = contract.fixture_events('event_sample_signed_single')
    unsigned = contract.fixture_events('event_sample_unsigned')
    forged = copy.deepcopy(single[0])
    forged['message_id'] = 'forged-0001'
    forged['traits'][0][2] = 'evil'
    messaging.publish_events(bus.exchange, bus.topic,
                             [batch, single, unsigned, [forged]])
    dispatcher = start_dispatcher()
    expected = {e['message_id']: e for e in batch + single}
    processes.wait_for(lambda: len(stored_events(db_url)) >= 4, 30,
                       what='4 events')
    processes.wait_for(lambda: messaging.queue_depth(bus.queue)[0] == 0,
                       10, what='every message acknowledged')
    stored = stored_events(db_url)
    assert set(stored) == set(expected)
    for message_id, event in expected.items():
        assert stored[message_id] == wire.parse_event(event).validated()
    shown = api_events(db_url)
    assert set(shown) == set(expected)
    first = batch[0]
    assert shown[first['message_id']]['event_type'] == first['event_type']
    assert shown[first['message_id']]['raw'] == first['raw']
    assert {(t['name'], t['type']) for t in shown[first['message_id']][
        'traits']} == {(name, models.Trait.TYPE_NAMES[dtype])
                       for name, dtype, _ in first['traits']}
    log = dispatcher.log()
    assert 'Rejecting event forged-0001: message_signature does not ' \
           'match' in log
    assert 'Rejecting event %s' % unsigned[0]['message_id'] in log
    # Each line logged for a batch names the batch's request id.
    for line in log.splitlines():
        if 'Rejecting event' in line:
            assert re.search(r' \[None req-[0-9a-f-]{36} ', line), line


def test_raw_service_notifications_normalized(bus, db_url,
                                              start_dispatcher):
    samples = contract.samples()
    for sample in samples.values():
        messaging.publish_notification(
            '%s_%s' % (bus.prefix, sample['exchange']), bus.raw_topic,
            sample)
    start_dispatcher(event_topics='', raw_notifications='true',
                     notification_topics=bus.raw_topic,
                     notification_exchanges=','.join(bus.service_exchanges),
                     definitions_file=contract.DEFINITIONS, store_raw='all')
    processes.wait_for(lambda: len(stored_events(db_url)) >= len(samples),
                       30, what='%d events' % len(samples))
    by_type = {e.event_type: e for e in stored_events(db_url).values()}
    assert set(by_type) == {s['event_type'] for s in samples.values()}
    for sample in samples.values():
        event = by_type[sample['event_type']]
        traits = {t.name: t.value for t in event.traits}
        assert traits['service'] == sample['publisher_id'].split('.')[0]
        assert event.raw['payload'] == sample['payload']
        assert event.raw['publisher_id'] == sample['publisher_id']
    instance = by_type['compute.instance.create.end']
    assert {t.name: t.value for t in instance.traits}['memory_mb'] == 2048
    volume = by_type['volume.create.end']
    assert {t.name: t.value for t in volume.traits}['volume_id'] == (
        samples['cinder_volume_create_end']['payload']['volume_id'])
    login = by_type['identity.authenticate']
    assert 'project_id' not in {t.name for t in login.traits}
    shown = {e['event_type']: e for e in api_events(db_url).values()}
    assert set(shown) == set(by_type)
    assert {'name': 'memory_mb', 'type': 'integer', 'value': '2048'} in (
        shown['compute.instance.create.end']['traits'])


def test_raw_notifications_need_no_definitions_file(bus, db_url,
                                                   start_dispatcher):
    """Unset, with none beside the configuration: panko's own are used."""
    sample = contract.samples()['nova_compute_instance_create_end']
    messaging.publish_notification(
        '%s_%s' % (bus.prefix, sample['exchange']), bus.raw_topic, sample)
    dispatcher = start_dispatcher(
        event_topics='', raw_notifications='true',
        notification_topics=bus.raw_topic,
        notification_exchanges=','.join(bus.service_exchanges))
    assert not os.path.exists(os.path.join(
        os.path.dirname(dispatcher.config_path), 'event_definitions.yaml'))
    processes.wait_for(lambda: stored_events(db_url), 30, what='the event')
    [event] = stored_events(db_url).values()
    assert event.event_type == 'compute.instance.create.end'
    traits = {t.name: t for t in event.traits}
    assert traits['memory_mb'].dtype == models.Trait.INT_TYPE
    assert traits['memory_mb'].value == sample['payload']['memory_mb']
    assert traits['instance_id'].value == sample['payload']['instance_id']
    assert 'Loading event definitions from %s' % (
        definitions.PACKAGED_FILE) in dispatcher.log()


def test_a_missing_definitions_file_stops_the_dispatcher(tmp_path, bus,
                                                         start_dispatcher):
    missing = str(tmp_path / 'missing.yaml')
    dispatcher = start_dispatcher(raw_notifications='true',
                                  definitions_file=missing)
    assert dispatcher.process.wait(30) == 1
    log = dispatcher.log()
    assert 'Cannot load the event definitions: cannot read %s' % (
        missing) in log
    assert 'Traceback' not in log


def test_a_quiet_start_then_one_line_of_stats_per_interval(
        bus, db_url, start_dispatcher):
    single = contract.fixture_events('event_sample_signed_single')
    batch = contract.fixture_events('event_sample_signed_batch3')
    dispatcher = start_dispatcher(stats_interval=1)
    wait_until_consuming(bus.queue)
    messaging.publish_events(bus.exchange, bus.topic, [batch, single])
    line = re.compile(r'Worker 0, last \d+ s: (\d+) messages, (\d+) events '
                      r'stored \((\d+\.\d)/s\), 0 duplicates, 0 rejected '
                      r'\(dead letters\), 0 messages requeued, lag (.*)$',
                      re.MULTILINE)

    def stored_then_idle():
        found = line.findall(dispatcher.log())
        stored = sum(int(f[1]) for f in found)
        return found if stored >= 4 and found[-1][1] == '0' else None

    found = processes.wait_for(stored_then_idle, 30,
                               what='4 events stored, then an idle line')
    assert sum(int(messages) for messages, *_ in found) == 2
    busy = [f for f in found if f[1] != '0']
    for _, stored, rate, lag in busy:
        # Stored in a second, or a little more on a loaded machine.
        assert int(stored) / 3 < float(rate) <= int(stored)
        assert re.fullmatch(r'\d+\.\d s', lag)
    # The worker goes on logging while idle, a line a second.
    assert found[-1][3] == 'unknown'
    dispatcher.stop()
    log = dispatcher.log()
    # Nothing at start a deployer cannot act on.
    assert 'Eventlet' not in log
    assert 'Warning' not in log and ' WARNING ' not in log


def test_raw_notification_traits_storage_refuses_are_dropped(
        bus, db_url, start_dispatcher):
    """The event is stored without them; a lone surrogate is mended."""
    sample = copy.deepcopy(
        contract.samples()['nova_compute_instance_create_end'])
    sample['payload'].update(memory_mb=2 ** 64,
                             launched_at='9999-12-31T23:59:59-05:00',
                             display_name='half \ud800 pair')
    messaging.publish_notification(
        '%s_%s' % (bus.prefix, sample['exchange']), bus.raw_topic, sample)
    dispatcher = start_dispatcher(
        event_topics='', raw_notifications='true',
        notification_topics=bus.raw_topic,
        notification_exchanges=','.join(bus.service_exchanges),
        definitions_file=contract.DEFINITIONS)
    processes.wait_for(lambda: stored_events(db_url), 30, what='the event')
    [event] = stored_events(db_url).values()
    traits = {t.name: t.value for t in event.traits}
    assert 'memory_mb' not in traits and 'launched_at' not in traits
    assert 'launch_seconds' not in traits    # from launched_at
    assert traits['display_name'] == 'half \ufffd pair'
    assert traits['instance_id'] == sample['payload']['instance_id']
    log = dispatcher.log()
    assert 'Dropping trait memory_mb' in log
    assert 'Dropping trait launched_at' in log
    assert 'Rejecting event' not in log


def test_poison_messages_set_aside_not_requeued(bus, db_url,
                                               start_dispatcher):
    routing_key = bus.queue
    single = contract.fixture_events('event_sample_signed_single')
    messaging.publish_events(bus.exchange, bus.topic, [{'a': 'dict'}])
    messaging.publish_body(bus.exchange, routing_key, 'not json at all')
    messaging.publish_body(bus.exchange, routing_key, json.dumps(
        {'oslo.version': '2.0', 'oslo.message': '{"broken'}))
    messaging.publish_events(bus.exchange, bus.topic, [single])
    dispatcher = start_dispatcher()
    processes.wait_for(lambda: stored_events(db_url), 30, what='an event')
    processes.wait_for(lambda: messaging.queue_depth(routing_key)[0] == 0,
                       10, what='poison messages acknowledged')
    assert list(stored_events(db_url)) == [single[0]['message_id']]
    connection = storage.get_connection(backends.make_conf(db_url), db_url)
    [letter] = connection.get_dead_letters()
    assert (letter.door, letter.kind) == ('dispatcher', 'message')
    assert letter.reason == ('the payload must be a list of events, got '
                             'an object')
    assert letter.payload['payload'] == {'a': 'dict'}
    log = dispatcher.log()
    assert 'Setting aside message %s: the payload must be a list' % (
        letter.message_id) in log
    # Messages oslo.messaging cannot decode never reach panko.
    assert log.count('Failed to process message ... skipping it') == 2
    assert dispatcher.running()


@pytest.mark.parametrize('db_url', backends.SQL_ENGINES, indirect=True)
def test_unstorable_events_set_aside_among_a_thousand_good_ones(
        bus, db_url, start_dispatcher):
    """The issue's case: signed events that cannot be stored, queued
    before and among 1,000 good ones, on every engine."""
    refusals.refuse_value(db_url)
    good = [event for message in synthetic_messages(1000, 100, 'good')
            for event in message]
    overflowing = dict(good[0], message_id='bad-overflow',
                       generated='9999-12-31T23:59:59-05:00')
    refused = dict(good[0], message_id='bad-refused',
                   traits=[['state', 1, refusals.REFUSED]])
    bad = [overflowing, refused]
    for event in good + bad:
        event['message_signature'] = signature.compute_signature(
            event, contract.SECRET)
    messaging.publish_events(bus.exchange, bus.topic, [
        [overflowing]] + [good[i:i + 100] for i in range(0, 500, 100)] + [
        good[500:550] + [refused] + good[550:600]] + [
        good[i:i + 100] for i in range(600, 1000, 100)])
    dispatcher = start_dispatcher()
    counter = processes.EventCounter(db_url)
    processes.wait_for(lambda: counter.stored() >= 1000, 60,
                       what='1,000 events')
    processes.wait_for(lambda: messaging.queue_depth(bus.queue)[0] == 0,
                       10, what='every message acknowledged')
    assert counter.counts() == (1000, 1000)
    assert set(stored_events(db_url)) == {e['message_id'] for e in good}
    connection = storage.get_connection(backends.make_conf(db_url), db_url)
    letters = connection.get_dead_letters()
    assert sorted(letter.message_id for letter in letters) == [
        'bad-overflow', 'bad-refused']
    assert {letter.door for letter in letters} == {'dispatcher'}
    assert dispatcher.running()
    assert 'requeuing' not in dispatcher.log()


def children(pid):
    """The processes whose parent is ``pid``."""
    return [child.pid for child in psutil.Process(pid).children()]


def test_guru_meditation_report_on_sigusr2(bus, start_dispatcher):
    dispatcher = start_dispatcher()
    wait_until_consuming(bus.queue)
    master = dispatcher.process.pid
    # The master, then its worker: each writes its own report to stderr.
    for number, pid in enumerate([master] + children(master), 1):
        os.kill(pid, signal.SIGUSR2)
        processes.wait_for(
            lambda n=number: dispatcher.log().count('Guru Meditation') >= n,
            10, what='report %d' % number)
    log = dispatcher.log()
    assert log.count('Guru Meditation') == 2
    assert 'Threads' in log
    assert 'event_exchange = %s' % bus.exchange in log
    assert 'transport_url = ***' in log
    assert dispatcher.running()


@pytest.mark.slow
def test_store_failure_mid_stream_every_event_once(bus, db_url,
                                                   start_dispatcher):
    """20,000 events; the store fails then recovers in the middle."""
    total = 20000
    messages = (synthetic_messages(18000, 100, 'big')
                + synthetic_messages(2000, 1, 'one'))
    counter = processes.EventCounter(db_url)
    dispatcher = start_dispatcher(telemetry_secret='', batch_size=20)
    wait_until_consuming(bus.queue)
    publisher = threading.Thread(target=messaging.publish_events, args=(
        bus.exchange, bus.topic, messages))
    publisher.start()
    processes.wait_for(lambda: counter.stored() >= 2000, 60,
                       what='the stream to start')
    admin = sa.create_engine(db_url, isolation_level='AUTOCOMMIT',
                             poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text('ALTER TABLE event RENAME TO event_away'))
        conn.execute(sa.text(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
            'WHERE datname = current_database() '
            'AND pid <> pg_backend_pid()'))
    processes.wait_for(lambda: 'requeuing' in dispatcher.log(), 30,
                       what='a requeue')
    with admin.connect() as conn:
        stalled = conn.execute(sa.text(
            'SELECT count(*) FROM event_away')).scalar()
        conn.execute(sa.text('ALTER TABLE event_away RENAME TO event'))
    assert stalled < total
    publisher.join()
    processes.wait_for(lambda: counter.stored() >= total, 120,
                       what='%d events' % total)
    processes.wait_for(lambda: messaging.queue_depth(bus.queue)[0] == 0,
                       10, what='every message acknowledged')
    assert counter.counts() == (total, total)
    assert dispatcher.running()


def test_competing_dispatchers_and_sigterm_lose_nothing(
        bus, db_url, start_dispatcher):
    total = 3000
    counter = processes.EventCounter(db_url)
    pair = start_dispatcher('pair', telemetry_secret='', workers=2,
                            batch_size=50)
    solo = start_dispatcher('solo', telemetry_secret='', batch_size=50)
    wait_until_consuming(bus.queue, consumers=3)
    publisher = threading.Thread(target=messaging.publish_events, args=(
        bus.exchange, bus.topic, synthetic_messages(total, 1, 'ev')))
    publisher.start()
    processes.wait_for(lambda: counter.stored() >= 300, 60,
                       what='the stream to start')
    assert pair.stop() == 0
    assert 'Dispatcher worker 0 stopped' in pair.log()
    assert 'Dispatcher worker 1 stopped' in pair.log()
    publisher.join()
    processes.wait_for(lambda: counter.stored() >= total, 60,
                       what='%d events' % total)
    assert counter.counts() == (total, total)
    assert 'Dispatcher worker 0 started' in solo.log()
