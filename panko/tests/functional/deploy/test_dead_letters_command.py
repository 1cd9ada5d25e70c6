"""panko-dead-letters, run as a process on each SQL engine."""

import json
import os
import subprocess
import sys

import pytest

from harness import processes
from panko import storage
from panko.ingestion import signature
from panko.storage import models
from panko.tests import backends
from panko.tests.functional.storage import test_storage

SECRET = 'the-secret-of-today'
DEFINITIONS = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..',
                           'etc', 'panko', 'event_definitions.yaml')
TOKEN = 'gAAAAA-a-keystone-token'


def run(config, *args):
    command = os.path.join(os.path.dirname(sys.executable),
                           'panko-dead-letters')
    return subprocess.run([command, '--config-file', config, *args],
                          capture_output=True, text=True, timeout=120,
                          check=False)


def write_config(directory, url, **dispatcher):
    dispatcher.setdefault('telemetry_secret', SECRET)
    dispatcher.setdefault('definitions_file', os.path.abspath(DEFINITIONS))
    return processes.write_config(os.path.join(directory, 'panko.conf'), {
        'database': {'connection': url},
        'storage': {'max_retries': 0},
        'dispatcher': dispatcher,
    })


def wire_event(message_id, secret=None, **fields):
    event = {'message_id': message_id,
             'event_type': 'compute.instance.update',
             'generated': '2026-12-01T10:00:00.000001',
             'traits': [['project_id', 1, 'p1'], ['user_id', 1, 'u1'],
                        ['memory_mb', 2, 512]],
             'raw': {}}
    event.update(fields)
    if secret is not None:
        event['message_signature'] = signature.compute_signature(
            event, secret)
    return event


def notification(message_id):
    """A notification only the catch-all definition matches."""
    return {'event_type': 'widget.created',
            'publisher_id': 'nova-compute.host1',
            'priority': 'INFO',
            'ctxt': {'project_id': 'p2', 'user_id': 'u2',
                     'auth_token': TOKEN},
            'payload': {'instance_id': 'vm-1', 'state': 'active'},
            'metadata': {'message_id': message_id,
                         'timestamp': '2026-12-01 10:00:00.000002'}}


def letter(kind, payload, reason='rejected', door='dispatcher'):
    message_id = payload.get('message_id') or payload.get(
        'metadata', {}).get('message_id')
    return models.DeadLetter(door=door, kind=kind, reason=reason,
                             payload=payload, message_id=message_id)


@pytest.fixture(params=['sqlite', 'postgresql'])
def store(request, tmp_path):
    """A new database and a configuration naming it.

    Each command is a process that takes two seconds to start: the
    scenario runs on two engines, the storage suite covers all of them.
    """
    with backends.temporary_database(request.param, str(tmp_path)) as url:
        conn = storage.get_connection(backends.make_conf(url), url)
        conn.upgrade()
        yield conn, write_config(str(tmp_path), url, store_raw='all')
        conn.engine.dispose()


def ids_of(conn):
    return [stored.id for stored in conn.get_dead_letters()]


def stored_events(conn):
    return {event.message_id: event
            for event in conn.get_events(models.EventFilter())}


def test_list_count_show_replay_purge(store):
    conn, config = store
    conn.record_events([test_storage.make_event(1)])
    conn.record_dead_letters([
        # Signed with the secret the configuration has now.
        letter('event', wire_event('now-good', SECRET),
               'message_signature does not match'),
        letter('event', wire_event('bad-time', generated='yesterday'),
               'old reason', door='api'),
        letter('message', {'ctxt': {'auth_token': TOKEN},
                           'payload': 'not a list'},
               'the payload must be a list\nof events'),
        letter('notification', notification('from-nova')),
        letter('event', wire_event('huge', raw={'blob': 'x' * 2 ** 21}),
               door='publisher'),
        letter('event', wire_event('msg-001')),
        letter('event', wire_event('forged', 'another-secret'),
               'message_signature does not match'),
        # A Ceilometer message the dispatcher gave up on.
        letter('message', {'ctxt': {}, 'payload': [
            wire_event('from-message', SECRET)]},
            'not stored after 10 deliveries'),
    ])
    ids = ids_of(conn)

    listing = run(config, 'list')
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert [int(line.split()[0]) for line in lines] == ids
    assert lines[2].split('  ')[2:] == [
        'dispatcher', 'message', '-', 'the payload must be a list\\nof events']
    assert lines[4].endswith('huge  [payload truncated] rejected')
    assert TOKEN not in listing.stdout

    only_api = run(config, 'list', '--door', 'api', '--limit', '1')
    assert only_api.stdout.splitlines() == [lines[1]]
    assert run(config, 'count').stdout == '8\n'
    assert run(config, 'count', '--door', 'dispatcher').stdout == '6\n'

    shown = run(config, 'show', str(ids[2]))
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {
        'id': ids[2], 'created_at': json.loads(shown.stdout)['created_at'],
        'door': 'dispatcher', 'kind': 'message', 'message_id': None,
        'reason': 'the payload must be a list\\nof events',
        'truncated': False,
        'payload': {'ctxt': {'auth_token': '***'}, 'payload': 'not a list'}}
    missing = run(config, 'show', str(ids[-1] + 1))
    assert missing.returncode == 1
    assert 'No dead letter has the id %d' % (ids[-1] + 1) in missing.stderr

    # One letter that is still bad: kept, with today's reason.
    again = run(config, 'replay', str(ids[1]))
    assert again.returncode == 1
    assert '%d: kept, generated' % ids[1] in again.stdout
    assert ids_of(conn) == ids
    assert 'is not a valid time' in conn.get_dead_letters()[1].reason

    # Every letter: those that store now are deleted, the others stay.
    replay = run(config, 'replay')
    assert replay.returncode == 1, replay.stderr
    out = replay.stdout
    assert '%d: stored, deleted' % ids[0] in out
    assert ('%d: kept, not replayable: the message holds no list of '
            'events' % ids[2] in out)
    assert '%d: stored, deleted' % ids[7] in out
    assert '%d: stored, deleted' % ids[3] in out
    assert ('%d: kept, not replayable: its payload was cut' % ids[4]
            in out)
    assert '%d: already stored, deleted' % ids[5] in out
    assert ('%d: kept, message_signature does not match' % ids[6]
            in out)
    assert out.endswith('3 stored, 1 already stored (deleted); 4 kept\n')
    assert ids_of(conn) == [ids[1], ids[2], ids[4], ids[6]]
    events = stored_events(conn)
    assert set(events) == {'msg-001', 'now-good', 'from-nova',
                           'from-message'}
    assert events['now-good'].trait('memory_mb').value == 512
    assert events['from-nova'].event_type == 'widget.created'
    assert events['from-nova'].trait('project_id').value == 'p2'
    assert events['from-nova'].raw['ctxt'] == {
        'project_id': 'p2', 'user_id': 'u2', 'auth_token': '***'}

    refused = run(config, 'purge')
    assert refused.returncode == 1
    assert 'without --all' in refused.stderr
    assert conn.count_dead_letters() == 4
    purged = run(config, 'purge', str(ids[1]), str(ids[2]))
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout == '2 dead letters deleted\n'
    unknown = run(config, 'purge', str(ids[1]))
    assert unknown.returncode == 1
    assert '1 of the ids named no dead letter' in unknown.stderr
    everything = run(config, 'purge', '--all')
    assert everything.returncode == 0
    assert everything.stdout == '2 dead letters deleted\n'
    assert conn.count_dead_letters() == 0
    assert run(config, 'replay').returncode == 0


def test_replay_follows_the_definitions(tmp_path):
    url = 'sqlite:///%s' % (tmp_path / 'panko.db')
    conn = storage.get_connection(backends.make_conf(url), url)
    conn.upgrade()
    definitions = tmp_path / 'definitions.yaml'
    definitions.write_text("- event_type: 'image.*'\n"
                           "  traits:\n"
                           "    name: {fields: payload.name}\n")
    config = write_config(str(tmp_path), url,
                          definitions_file=str(definitions))
    conn.record_dead_letters([
        letter('notification', notification('nova-1')),
        letter('notification', dict(notification('glance-1'),
                                    event_type='image.update')),
        letter('notification', {'event_type': 'image.update'}),
    ])
    ids = ids_of(conn)
    replay = run(config, 'replay')
    assert replay.returncode == 1
    assert ('%d: kept, no event definition matches widget.created'
            % ids[0]) in replay.stdout
    assert '%d: stored, deleted' % ids[1] in replay.stdout
    assert '%d: kept, metadata is missing' % ids[2] in replay.stdout
    assert list(stored_events(conn)) == ['glance-1']
    assert [stored.reason for stored in conn.get_dead_letters()] == [
        'no event definition matches widget.created',
        'metadata is missing']


def test_an_unreachable_store_is_a_clear_failure(tmp_path):
    config = write_config(str(tmp_path),
                          'postgresql://nobody@127.0.0.1:1/none')
    result = run(config, 'count')
    assert result.returncode == 1
    assert 'Cannot reach the event store' in result.stderr
    assert 'Traceback' not in result.stderr


def test_replay_stops_on_broken_definitions(tmp_path):
    url = 'sqlite:///%s' % (tmp_path / 'panko.db')
    conn = storage.get_connection(backends.make_conf(url), url)
    conn.upgrade()
    config = write_config(str(tmp_path), url,
                          definitions_file=str(tmp_path / 'missing.yaml'))
    conn.record_dead_letters([letter('event', wire_event('e1', SECRET)),
                              letter('notification', notification('n1'))])
    replay = run(config, 'replay')
    assert replay.returncode == 1
    assert 'Cannot load the event definitions, replay stopped' in (
        replay.stderr)
    assert replay.stdout.endswith(
        '1 stored, 0 already stored (deleted); 0 kept\n')
    assert [stored.message_id for stored in conn.get_dead_letters()] == [
        'n1']
