"""One event the database refuses never stops the others, on every engine.

The refusal is the database's own (see panko.tests.refusals).
"""

import datetime

import oslo_messaging
import pytest

from panko import storage
from panko.dispatcher import endpoints
from panko.ingestion import recorder
from panko.ingestion import signature
from panko.ingestion import wire
from panko.storage import models
from panko.tests import backends
from panko.tests import refusals

SECRET = 's3cr3t'
POISON = refusals.REFUSED
#: Fine as text, but 9999-12-31 23:59:59 at UTC-5 is past year 9999 in UTC.
OVERFLOWING = '9999-12-31T23:59:59-05:00'


@pytest.fixture(params=backends.SQL_ENGINES)
def refusing_store(request, tmp_path):
    """An empty store on each SQL engine that refuses the text POISON."""
    with backends.temporary_database(request.param, str(tmp_path)) as url:
        connection = storage.get_connection(backends.make_conf(url), url)
        connection.upgrade()
        refusals.refuse_value(url)
        yield connection


def serialized(message_id, state='active', generated='2026-12-01T10:00:00'):
    event = {'message_id': message_id, 'event_type': 'compute.instance.update',
             'generated': generated, 'traits': [['state', 1, state],
                                                ['memory_mb', 2, 512]],
             'raw': {}}
    event['message_signature'] = signature.compute_signature(event, SECRET)
    return event


def good_events(count):
    return [serialized('good-%04d' % i) for i in range(count)]


def record_body(connection, body, secret):
    """What POST /v2/events does with Ceilometer's http:// body."""
    events, rejected = wire.parse_body(body, secret)
    return recorder.record(connection, events, rejected, door='api')


def stored_ids(connection):
    return {e.message_id for e in connection.get_events(models.EventFilter())}


def test_refused_and_overflowing_events_set_aside_the_rest_stored(
        refusing_store):
    good = good_events(1000)
    bad = [serialized('refused-1', state=POISON),
           serialized('overflow-1', generated=OVERFLOWING)]
    body = good[:500] + bad[:1] + good[500:] + bad[1:]
    result = record_body(refusing_store, body, SECRET)
    assert len(result.stored) == 1000
    assert stored_ids(refusing_store) == {e['message_id'] for e in good}
    assert [message_id for message_id, _ in result.rejected] == [
        'refused-1', 'overflow-1']
    letters = refusing_store.get_dead_letters()
    assert [(letter.door, letter.kind, letter.message_id)
            for letter in letters] == [('api', 'event', 'refused-1'),
                                       ('api', 'event', 'overflow-1')]
    # The event is kept as it came, so that it can be replayed.
    assert letters[0].payload['traits'][0] == ['state', 1, POISON]
    assert letters[1].payload['generated'].startswith('9999-12-31T23:59:59')
    for letter in letters:
        assert 'SELECT' not in letter.reason
        assert 'INSERT' not in letter.reason


def test_a_refused_event_is_rejected_again_as_a_duplicate_would_not(
        refusing_store):
    """Recording the same body again stores nothing twice."""
    body = good_events(10) + [serialized('refused-1', state=POISON)]
    record_body(refusing_store, body, SECRET)
    again = record_body(refusing_store, body, SECRET)
    assert again.stored == []
    assert len(again.duplicates) == 10
    assert [m for m, _ in again.rejected] == ['refused-1']


def message_of(payload, message_id):
    return {'ctxt': {'auth_token': 'gAAAAAB-secret-token'},
            'publisher_id': 'telemetry.publisher.host1',
            'event_type': 'event', 'payload': payload,
            'metadata': {'message_id': message_id,
                         'timestamp': '2026-12-01 10:00:00.000000'}}


def test_dispatcher_batch_with_unstorable_events_is_acknowledged(
        refusing_store):
    conf = backends.make_conf(dispatcher__telemetry_secret=SECRET,
                              dispatcher__requeue_delay_max=0.0)
    endpoint = endpoints.EventEndpoint(conf, refusing_store)
    good = good_events(300)
    messages = ([message_of([serialized('overflow-1',
                                        generated=OVERFLOWING)], 'm-bad')]
                + [message_of(good[i:i + 100], 'm-%d' % i)
                   for i in range(0, 300, 100)]
                + [message_of([serialized('refused-1', state=POISON)]
                              + good[:1], 'm-mixed')])
    assert endpoint.sample(messages) == (
        oslo_messaging.NotificationResult.HANDLED)
    assert stored_ids(refusing_store) == {e['message_id'] for e in good}
    assert sorted(letter.message_id
                  for letter in refusing_store.get_dead_letters()) == [
        'overflow-1', 'refused-1']


def test_serialize_event_is_the_inverse_of_parse_event():
    event = serialized('e-1')
    event['traits'].append(['launched_at', 4, '2026-12-01T09:00:00'])
    parsed = wire.parse_event(event).validated()
    again = wire.parse_event(wire.serialize_event(parsed)).validated()
    assert again == parsed
    assert isinstance(parsed.generated, datetime.datetime)


def test_unrepresentable_events_set_aside_on_every_backend(conn):
    """What no engine can hold is set aside before it reaches any."""
    conf = backends.make_conf(dispatcher__telemetry_secret=SECRET,
                              dispatcher__requeue_delay_max=0.0)
    good = good_events(50)
    bad = [serialized('overflow-1', generated=OVERFLOWING),
           dict(serialized('surrogate-1'),
                event_type='compute.\ud800.update'),
           dict(serialized('big-1'), traits=[['memory_mb', 2, 2 ** 70]])]
    for event in bad[1:]:
        event['message_signature'] = signature.compute_signature(
            event, SECRET)
    endpoint = endpoints.EventEndpoint(conf, conn)
    assert endpoint.sample([message_of(good[:25] + bad + good[25:],
                                       'm-1')]) == (
        oslo_messaging.NotificationResult.HANDLED)
    assert stored_ids(conn) == {e['message_id'] for e in good}
    letters = conn.get_dead_letters()
    assert sorted(letter.message_id for letter in letters) == [
        'big-1', 'overflow-1', 'surrogate-1']
