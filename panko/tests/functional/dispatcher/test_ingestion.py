"""The ingestion core, endpoints and publisher on a real store."""

import copy
import datetime
import logging
import re
import time
import types
from urllib import parse

import oslo_messaging
import pytest
import sqlalchemy as sa
from stevedore import driver

from panko import storage
from panko.dispatcher import endpoints
from panko.dispatcher import stats
from panko.ingestion import definitions
from panko.ingestion import recorder
from panko.ingestion import signature
from panko.ingestion import wire
from panko.storage import models
from panko.tests import backends
from panko.tests import contract

HANDLED = oslo_messaging.NotificationResult.HANDLED
REQUEUE = oslo_messaging.NotificationResult.REQUEUE


@pytest.fixture
def db_url(tmp_path):
    with backends.temporary_database('sqlite', str(tmp_path)) as url:
        yield url


@pytest.fixture
def conf():
    """Built before the test runs: oslo.log's set-up resets log capture."""
    return backends.make_conf(dispatcher__telemetry_secret='s3cr3t',
                              dispatcher__requeue_delay_max=0.0)


@pytest.fixture
def store(db_url):
    connection = storage.get_connection(backends.make_conf(db_url), db_url)
    connection.upgrade()
    return connection


def all_events(connection):
    return connection.get_events(models.EventFilter())


def message_of(payload, message_id='msg-1'):
    """A Ceilometer event message as a batch endpoint receives it."""
    return {'ctxt': {}, 'publisher_id': 'telemetry.publisher.host1',
            'event_type': 'event', 'payload': payload,
            'metadata': {'message_id': message_id,
                         'timestamp': '2026-11-25 03:03:22.772534'}}


def break_store(url):
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text('ALTER TABLE event RENAME TO event_away'))
    engine.dispose()


def repair_store(url):
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text('ALTER TABLE event_away RENAME TO event'))
    engine.dispose()


def record_body(connection, body, secret=''):
    """What POST /v2/events does with Ceilometer's http:// body."""
    events, rejected = wire.parse_body(body, secret)
    return recorder.record(connection, events, rejected, door='api')


class TestRecordBody:
    """POST /v2/events's body on a real store."""

    def test_valid_events_stored_and_the_others_rejected(self, store):
        batch = contract.fixture_events('event_sample_signed_batch3')
        forged = copy.deepcopy(batch[0])
        forged['message_id'] = 'forged-1'
        nameless = {'event_type': 'x', 'generated': '2026-01-01T00:00:00'}
        body = batch + [forged, nameless]
        result = record_body(store, body, contract.SECRET)
        assert sorted(result.stored) == sorted(e['message_id']
                                               for e in batch)
        reasons = dict(result.rejected)
        assert 'message_signature does not match' in reasons['forged-1']
        assert 'message_id must be a non-empty string' in reasons[None]
        stored = {e.message_id: e for e in all_events(store)}
        assert stored[batch[0]['message_id']].raw == batch[0]['raw']
        again = record_body(store, batch, contract.SECRET)
        assert again.stored == [] and len(again.duplicates) == 3

    @pytest.mark.parametrize('secret', ['', contract.SECRET])
    def test_unsigned_events_are_accepted(self, store, secret):
        """Ceilometer's http:// publisher signs none of its events."""
        unsigned = contract.fixture_events('event_sample_unsigned')
        no_field = dict(contract.fixture_events(
            'event_sample_signed_single')[0])
        del no_field['message_signature']
        result = record_body(store, unsigned + [no_field], secret)
        assert sorted(result.stored) == sorted(
            [unsigned[0]['message_id'], no_field['message_id']])

    def test_one_event_object_is_a_batch_of_one(self, store):
        """The body of the http:// publisher with batch=False."""
        [event] = contract.fixture_events('event_sample_signed_single')
        result = record_body(store, event, contract.SECRET)
        assert result.stored == [event['message_id']]

    def test_invalid_trait_value_rejects_only_its_event(self, store):
        good, other = contract.fixture_events('event_sample_signed_batch3')[:2]
        bad = dict(other, traits=[['launched_at', 4, 'yesterday']])
        result = record_body(store, [good, bad])
        assert result.stored == [good['message_id']]
        [(message_id, reason)] = result.rejected
        assert message_id == bad['message_id']
        assert 'trait launched_at' in reason

    def test_large_batches_are_recorded_in_chunks(self, store, monkeypatch):
        monkeypatch.setattr(recorder, 'RECORD_CHUNK', 2)
        batch = contract.fixture_events('event_sample_signed_batch3')
        result = record_body(store, batch)
        assert len(result.stored) == 3
        assert len(all_events(store)) == 3


def test_raw_notifications_stored_without_credentials(store):
    [event] = contract.fixture_events('event_sample_signed_single')
    event['raw'] = {'_context_auth_token': 'gAAAAAB-keystone-token',
                    '_context_user_id': 'u-1',
                    'ctxt': {'auth_token': 'gAAAAAB-token', 'user': 'u-1'},
                    'payload': {'instance_id': 'vm-1'}}
    event['message_signature'] = signature.compute_signature(
        event, contract.SECRET)
    result = record_body(store, [event], contract.SECRET)
    # The signature was checked on the event as it came.
    assert len(result.stored) == 1
    [stored] = all_events(store)
    assert stored.raw == {'_context_auth_token': '***',
                          '_context_user_id': 'u-1',
                          'ctxt': {'auth_token': '***', 'user': 'u-1'},
                          'payload': {'instance_id': 'vm-1'}}


def test_record_stream_writes_chunks_as_parts_arrive(store, monkeypatch):
    monkeypatch.setattr(recorder, 'RECORD_CHUNK', 2)
    calls = []
    record_events = store.record_events

    def spy(events):
        calls.append(len(events))
        return record_events(events)

    monkeypatch.setattr(store, 'record_events', spy)
    batch = contract.fixture_events('event_sample_signed_batch3')
    single = contract.fixture_events('event_sample_signed_single')
    events = [e.validated() for e in wire.parse_events(
        batch + single)[0]]
    bad = models.DeadLetter(door=None, kind='event', reason='bad',
                            payload={}, message_id='x')
    parts = [(events[:3], [bad]), (events[3:], []), (events[:1], [])]
    result = recorder.record_stream(store, iter(parts))
    assert calls == [2, 2, 1]
    assert len(result.stored) == 4
    assert result.duplicates == [events[0].message_id]
    assert result.rejected == [('x', 'bad')]


class TestEventEndpoint:
    def test_batch_of_messages_stored_then_acknowledged(self, conf, store):
        messages = [message_of(contract.fixture_events(name), name)
                    for name in ('event_sample_signed_batch3',
                                 'event_sample_signed_single',
                                 'event_sample_unsigned')]
        assert endpoints.EventEndpoint(conf, store).sample(messages) == HANDLED
        assert len(all_events(store)) == 4

    def test_poison_message_set_aside_and_the_rest_stored(self, conf, store,
                                                          caplog):
        single = contract.fixture_events('event_sample_signed_single')
        messages = [message_of({'not': 'a list'}, 'poison-1'),
                    message_of(single, 'good-1')]
        messages[0]['ctxt'] = {'auth_token': 'gAAAAAB-token',
                               'user_id': 'u-1'}
        assert endpoints.EventEndpoint(conf, store).sample(messages) == HANDLED
        assert [e.message_id for e in all_events(store)] == [
            single[0]['message_id']]
        [letter] = store.get_dead_letters()
        assert (letter.door, letter.kind, letter.message_id) == (
            'dispatcher', 'message', 'poison-1')
        assert letter.reason == ('the payload must be a list of events, '
                                 'got an object')
        assert letter.payload['payload'] == {'not': 'a list'}
        assert 'gAAAAAB-token' not in str(letter.payload)
        assert 'gAAAAAB-token' not in caplog.text

    def test_a_message_failing_unexpectedly_is_set_aside_at_the_limit(
            self, conf, store, monkeypatch):
        conf.set_override('max_redeliveries', 3, 'dispatcher')
        endpoint = endpoints.EventEndpoint(conf, store)
        single = contract.fixture_events('event_sample_signed_single')
        messages = [message_of(single, 'cursed-1')]

        def cursed(connection, parts, door=None):
            list(parts)
            raise RuntimeError('a bug')

        with monkeypatch.context() as patch:
            patch.setattr(recorder, 'record_stream', cursed)
            for _ in range(3):
                assert endpoint.sample(messages) == REQUEUE
        assert endpoint.sample(messages) == HANDLED
        assert all_events(store) == []
        [letter] = store.get_dead_letters()
        assert letter.message_id == 'cursed-1'
        assert letter.reason == 'not stored after 3 deliveries'
        assert endpoint.failures.count(messages[0]) == 0

    def test_storage_failure_requeues_then_recovery_stores_once(
            self, conf, store, db_url):
        endpoint = endpoints.EventEndpoint(conf, store)
        batch = contract.fixture_events('event_sample_signed_batch3')
        break_store(db_url)
        assert endpoint.sample([message_of(batch)]) == REQUEUE
        assert endpoint.backoff.failures == 1
        repair_store(db_url)
        assert endpoint.sample([message_of(batch)]) == HANDLED
        assert endpoint.sample([message_of(batch)]) == HANDLED
        assert endpoint.backoff.failures == 0
        assert len(all_events(store)) == 3

    def test_stop_cuts_the_backoff_short(self, conf, store, db_url):
        conf.set_override('requeue_delay_max', 30.0, 'dispatcher')
        endpoint = endpoints.EventEndpoint(conf, store)
        endpoint.backoff.failures = 5
        endpoint.stop()
        break_store(db_url)
        start = time.monotonic()
        assert endpoint.sample([message_of(contract.fixture_events(
            'event_sample_signed_single'))]) == REQUEUE
        assert time.monotonic() - start < 5

    def test_backoff_doubles_up_to_the_maximum(self):
        backoff = endpoints.Backoff(5)
        assert [backoff.next_delay() for _ in range(5)] == [1, 2, 4, 5, 5]
        backoff.reset()
        assert backoff.next_delay() == 1


class TestNotificationEndpoint:
    def test_raw_notifications_normalized_and_stored(self, conf, store,
                                                      caplog):
        endpoint = endpoints.NotificationEndpoint(
            conf, store, definitions.Normalizer.from_file(
                contract.DEFINITIONS, 'error'))
        samples = contract.samples()
        messages = [contract.as_received(sample, 'n-%s' % name)
                    for name, sample in samples.items()]
        broken = contract.as_received(samples['glance_image_upload'])
        del broken['metadata']['message_id']
        assert endpoint.info(messages + [broken]) == HANDLED
        stored = {e.message_id: e for e in all_events(store)}
        assert set(stored) == {'n-%s' % name for name in samples}
        assert stored['n-cinder_volume_create_end'].event_type == (
            'volume.create.end')
        assert stored['n-glance_image_upload'].raw == {}
        assert 'metadata.message_id is missing' in caplog.text
        [letter] = store.get_dead_letters()
        assert (letter.door, letter.kind) == ('dispatcher', 'notification')
        # Kept with its priority, which the message does not carry, so
        # that a replay normalizes it the same way.
        assert letter.payload['priority'] == 'info'
        assert letter.payload['event_type'] == broken['event_type']
        error = contract.as_received(samples['cinder_volume_create_end'],
                                     'n-error')
        error['ctxt']['auth_token'] = 'gAAAAAB-keystone-token'
        assert endpoint.error([error]) == HANDLED
        [kept] = store.get_events(models.EventFilter(message_id='n-error'))
        assert kept.raw['payload'] == error['payload']
        # The raw notification is kept without its caller's token.
        assert kept.raw['ctxt']['auth_token'] == '***'
        assert kept.raw['ctxt']['user_id'] == error['ctxt']['user_id']


def test_worker_stats_count_the_batches_of_its_endpoints(conf, store,
                                                        db_url, caplog):
    shared = stats.Stats()
    events = endpoints.EventEndpoint(conf, store, shared)
    notifications = endpoints.NotificationEndpoint(
        conf, store, definitions.Normalizer.from_file(
            definitions.PACKAGED_FILE), shared)
    batch = contract.fixture_events('event_sample_signed_batch3')
    unsigned = contract.fixture_events('event_sample_unsigned')
    assert events.sample([message_of(batch, 'm-1'),
                          message_of(unsigned, 'm-2')]) == HANDLED
    assert events.sample([message_of(batch, 'm-1')]) == HANDLED
    generated = '2026-11-30 23:59:30.000000'
    sample = contract.samples()['nova_compute_instance_create_end']
    assert notifications.info([
        contract.as_received(sample, 'n-1', generated),
        contract.as_received(dict(sample, event_type='no.such.type'),
                             'n-2', generated)]) == HANDLED
    break_store(db_url)
    assert events.sample([message_of(batch, 'm-3')]) == REQUEUE
    repair_store(db_url)
    reporter = stats.Reporter(shared, 60, 3)
    with caplog.at_level(logging.INFO, 'panko.dispatcher.stats'):
        reporter.report()
        reporter.report()
    first, second = [record.getMessage() for record in caplog.records
                     if record.name == 'panko.dispatcher.stats']
    # Messages handled: 2, 1 and 2; the failed batch was requeued.
    assert re.fullmatch(
        r'Worker 3, last \d+ s: 5 messages, 5 events stored \(\d+\.\d/s\), '
        r'3 duplicates, 1 rejected \(dead letters\), 1 messages requeued, '
        r'lag (\d+\.\d) s', first), first
    lag = float(first.rsplit(' ', 2)[1])
    expected = (datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None) - datetime.datetime(2026, 11, 30, 23, 59, 30))
    assert abs(lag - expected.total_seconds()) < 60
    assert second.endswith(': 0 messages, 0 events stored (0.0/s), 0 '
                           'duplicates, 0 rejected (dead letters), 0 '
                           'messages requeued, lag unknown')


class TestPankoPublisher:
    """Ceilometer loads it by scheme and hands over its Event objects."""

    def publisher(self, tmp_path, db_url):
        config = tmp_path / 'panko.conf'
        config.write_text('[database]\nconnection = %s\n' % db_url)
        url = parse.urlsplit('panko://?config_file=%s' % config)
        ceilometer_conf = object()
        return driver.DriverManager(
            'ceilometer.event.publisher', url.scheme, invoke_on_load=True,
            invoke_args=(ceilometer_conf, url)).driver

    @staticmethod
    def ceilometer_event(message_id, **changes):
        trait = types.SimpleNamespace
        fields = dict(
            message_id=message_id, event_type='compute.instance.update',
            generated=datetime.datetime(2026, 11, 25, 3, 7, 10, 216035),
            traits=[trait(name='state', dtype=1, value='active'),
                    trait(name='memory_mb', dtype=2, value=2048),
                    trait(name='load', dtype=3, value=0.5),
                    trait(name='launched_at', dtype=4,
                          value=datetime.datetime(2026, 11, 25, 3, 7))],
            raw={'payload': {'state': 'active'}})
        fields.update(changes)
        return types.SimpleNamespace(**fields)

    def test_events_committed_before_returning(self, tmp_path, db_url,
                                               store):
        publisher = self.publisher(tmp_path, db_url)
        publisher.publish_samples([object()])
        publisher.publish_events([self.ceilometer_event('c-1'),
                                  self.ceilometer_event('c-2', raw={})])
        [first, second] = all_events(store)
        assert first.message_id == 'c-1'
        assert first.raw == {'payload': {'state': 'active'}}
        assert {t.name: t.value for t in first.traits} == {
            'state': 'active', 'memory_mb': 2048, 'load': 0.5,
            'launched_at': datetime.datetime(2026, 11, 25, 3, 7)}
        assert second.raw == {}

    def test_an_unstorable_event_is_set_aside_not_raised(
            self, tmp_path, db_url, store):
        publisher = self.publisher(tmp_path, db_url)
        far = datetime.datetime(9999, 12, 31, 23, 59, 59,
                                tzinfo=datetime.timezone(
                                    datetime.timedelta(hours=-5)))
        publisher.publish_events([self.ceilometer_event('c-1'),
                                  self.ceilometer_event('c-far',
                                                        generated=far)])
        assert [e.message_id for e in all_events(store)] == ['c-1']
        [letter] = store.get_dead_letters()
        assert (letter.door, letter.kind, letter.message_id) == (
            'publisher', 'event', 'c-far')
        assert letter.payload['generated'] == far.isoformat()
        assert 'out of range' in letter.reason

    def test_storage_failure_raised_to_ceilometer(self, tmp_path, db_url,
                                                  store):
        publisher = self.publisher(tmp_path, db_url)
        break_store(db_url)
        with pytest.raises(storage.StorageError):
            publisher.publish_events([self.ceilometer_event('c-1')])
