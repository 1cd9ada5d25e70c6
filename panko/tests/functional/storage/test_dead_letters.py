"""The dead-letter store, on every storage backend."""

import datetime
import logging

from oslo_utils import timeutils
import pytest
import sqlalchemy as sa

from panko import storage
from panko.storage import models
from panko.tests import backends
from panko.tests.functional.storage import test_storage_failures

#: Everything the payload column must keep exactly.
HOSTILE = {
    'surrogate': 'lone \ud800 and \udfff',
    'nul': 'a\x00b',
    'emoji': 'snow \u2603 face \U0001f600',
    'controls': '\n\r\t\x1b[31m\x7f\x85',
    'huge': 2 ** 70,
    'negative': -2 ** 80,
    'float': 1e-300,
    'keys': {'$where': 1, 'a.b': 2, '\U0001f600': 3, '': 4},
    'nested': [[[[{'deep': [None, True, False]}]]]],
}


def letter(number=0, door='dispatcher', kind='event', **fields):
    fields.setdefault('payload', {'message_id': 'm-%d' % number})
    fields.setdefault('reason', 'reason %d' % number)
    fields.setdefault('message_id', 'm-%d' % number)
    return models.DeadLetter(door=door, kind=kind, **fields)


def numbers(letters):
    return [stored.message_id for stored in letters]


class TestRoundTrip:

    def test_every_field_comes_back(self, conn):
        before = timeutils.utcnow()
        conn.record_dead_letters([
            letter(1, payload={'traits': [['a', 1, 'x']], 'n': 1}),
            letter(2, door='api', kind='notification', message_id=None,
                   reason='no definition', payload=['a', 2])])
        first, second = conn.get_dead_letters()
        assert isinstance(first.id, int) and second.id > first.id
        assert (first.door, first.kind, first.message_id, first.reason,
                first.payload, first.truncated) == (
            'dispatcher', 'event', 'm-1', 'reason 1',
            {'traits': [['a', 1, 'x']], 'n': 1}, False)
        assert (second.door, second.kind, second.message_id,
                second.reason, second.payload) == (
            'api', 'notification', None, 'no definition', ['a', 2])
        for stored in (first, second):
            assert stored.created_at.tzinfo is None
            assert before <= stored.created_at <= timeutils.utcnow()

    def test_a_given_time_is_kept_to_the_microsecond(self, conn):
        moment = datetime.datetime(2026, 3, 1, 12, 0, 0, 123457)
        aware = datetime.datetime(2026, 3, 1, 14, 0, 0, 5,
                                  tzinfo=datetime.timezone(
                                      datetime.timedelta(hours=2)))
        conn.record_dead_letters([letter(1, created_at=moment),
                                  letter(2, created_at=aware)])
        assert [stored.created_at for stored in conn.get_dead_letters()] == [
            moment, datetime.datetime(2026, 3, 1, 12, 0, 0, 5)]

    def test_hostile_payloads_round_trip_exactly(self, conn):
        conn.record_dead_letters([letter(1, payload=HOSTILE),
                                  letter(2, payload='just \x00 text'),
                                  letter(3, payload=None)])
        stored = conn.get_dead_letters()
        assert [s.payload for s in stored] == [HOSTILE, 'just \x00 text',
                                               None]
        assert not any(s.truncated for s in stored)

    def test_an_empty_batch_stores_nothing(self, conn):
        conn.record_dead_letters([])
        assert conn.count_dead_letters() == 0

    def test_clear_removes_dead_letters(self, conn):
        conn.record_dead_letters([letter(1)])
        conn.clear()
        assert conn.get_dead_letters() == []


class TestBounds:

    def test_a_huge_payload_is_cut_and_marked(self, conn):
        payload = {'message_id': 'big', 'blob': 'x' * (5 * 1024 * 1024)}
        conn.record_dead_letters([letter(1, payload=payload), letter(2)])
        big, small = conn.get_dead_letters()
        assert big.truncated
        assert isinstance(big.payload, str)
        assert len(big.payload) == models.MAX_DEAD_LETTER_PAYLOAD
        assert big.payload.startswith('{"message_id": "big", "blob": "xxx')
        assert not small.truncated
        assert small.payload == {'message_id': 'm-2'}

    def test_a_payload_that_is_not_json_is_kept_as_an_error(self, conn):
        looped = {}
        looped['self'] = looped
        conn.record_dead_letters([letter(1, payload=looped)])
        [stored] = conn.get_dead_letters()
        assert stored.truncated
        assert stored.payload.startswith('unencodable payload:')

    def test_text_fields_are_escaped_and_cut(self, conn):
        reason = ('line\nbreak \x00 \ud800 \u00e9 \U0001f600\r\n' * 50000)
        assert len(reason) >= 1000000
        conn.record_dead_letters([letter(
            1, reason=reason, message_id='id\n\x00\ud800' + 'x' * 1000,
            door='door\n' * 20, kind='kind\x00')])
        [stored] = conn.get_dead_letters()
        assert stored.reason.startswith(
            'line\\nbreak \\x00 \\ud800 \\xe9 \\U0001f600\\r\\nline')
        # Cut between characters, never inside an escape.
        assert stored.reason.endswith(' ...')
        assert (models.MAX_DEAD_LETTER_REASON - 10 < len(stored.reason)
                <= models.MAX_DEAD_LETTER_REASON)
        assert stored.message_id.startswith('id\\n\\x00\\ud800xxx')
        assert len(stored.message_id) == models.MAX_DEAD_LETTER_MESSAGE_ID
        assert stored.door.startswith('door\\ndoor\\n')
        assert stored.door == 'door\\ndoor\\ndoor\\ndoor\\ndoor...'
        assert stored.kind == 'kind\\x00'
        for text in (stored.reason, stored.message_id, stored.door):
            assert text.isascii() and text.isprintable()

    def test_missing_and_odd_fields_are_stored(self, conn):
        conn.record_dead_letters([models.DeadLetter(
            door=None, kind=None, reason=None, payload={'k': b'\x00bytes'},
            message_id=12345, created_at='not a time', truncated=True)])
        [stored] = conn.get_dead_letters()
        assert (stored.door, stored.kind, stored.reason,
                stored.message_id) == ('', '', '', '12345')
        assert stored.payload == {'k': "b'\\x00bytes'"}
        assert not stored.truncated
        assert stored.created_at.year >= 2026

    def test_credentials_are_scrubbed(self, conn):
        conn.record_dead_letters([letter(1, kind='message', payload={
            'ctxt': {'auth_token': 'gAAAA-secret', 'user_id': 'u1'},
            'payload': [{'raw': {'_context_auth_token': 'gAAAA-secret',
                                 '_context_project_id': 'p1'}}]})])
        [stored] = conn.get_dead_letters()
        assert stored.payload == {
            'ctxt': {'auth_token': '***', 'user_id': 'u1'},
            'payload': [{'raw': {'_context_auth_token': '***',
                                 '_context_project_id': 'p1'}}]}


class TestListing:

    @pytest.fixture
    def five(self, conn):
        conn.record_dead_letters([letter(0, door='dispatcher'),
                                  letter(1, door='api')])
        conn.record_dead_letters([letter(2, door='dispatcher')])
        conn.record_dead_letters([letter(3, door='publisher'),
                                  letter(4, door='dispatcher')])
        return conn

    def test_oldest_first_and_pages(self, five):
        every = five.get_dead_letters()
        assert numbers(every) == ['m-0', 'm-1', 'm-2', 'm-3', 'm-4']
        assert [s.id for s in every] == sorted(s.id for s in every)
        assert numbers(five.get_dead_letters(limit=2)) == ['m-0', 'm-1']
        assert numbers(five.get_dead_letters(
            limit=2, after_id=every[1].id)) == ['m-2', 'm-3']
        assert five.get_dead_letters(after_id=every[-1].id) == []
        assert five.get_dead_letters(limit=0) == []

    def test_door_filter(self, five):
        assert numbers(five.get_dead_letters(door='dispatcher')) == [
            'm-0', 'm-2', 'm-4']
        first = five.get_dead_letters(door='dispatcher', limit=1)
        assert numbers(five.get_dead_letters(
            door='dispatcher', after_id=first[0].id)) == ['m-2', 'm-4']
        assert five.count_dead_letters() == 5
        assert five.count_dead_letters(door='dispatcher') == 3
        assert five.count_dead_letters(door='api') == 1
        assert five.count_dead_letters(door='nowhere') == 0
        assert five.get_dead_letters(door='nowhere') == []

    def test_delete_some_then_all(self, five):
        ids = [s.id for s in five.get_dead_letters()]
        assert five.delete_dead_letters([ids[1], ids[3], 999999]) == 2
        assert numbers(five.get_dead_letters()) == ['m-0', 'm-2', 'm-4']
        assert five.delete_dead_letters([]) == 0
        assert five.delete_dead_letters() == 3
        assert five.count_dead_letters() == 0

    def test_ids_are_not_reused(self, five):
        last = five.get_dead_letters()[-1].id
        five.delete_dead_letters([last])
        five.record_dead_letters([letter(5)])
        assert five.get_dead_letters()[-1].id > last

    def test_update_reason(self, five):
        before = five.get_dead_letters()
        five.update_dead_letter_reason(before[2].id, 'again\nrejected')
        after = five.get_dead_letters()
        assert after[2].reason == 'again\\nrejected'
        assert after[2].created_at == before[2].created_at
        assert after[2].payload == before[2].payload
        assert [s.reason for s in after[:2] + after[3:]] == [
            s.reason for s in before[:2] + before[3:]]


@pytest.mark.parametrize('engine_name', ['postgresql', 'mysql'])
def test_a_lost_connection_is_storage_unavailable(engine_name, tmp_path):
    """The session dies as the letters are inserted: none is stored."""
    with backends.temporary_database(engine_name, str(tmp_path)) as url:
        conn = storage.get_connection(backends.make_conf(url), url)
        conn.upgrade()
        killer = test_storage_failures.SessionKiller(
            engine_name, backends.SERVER_URLS[engine_name])

        def kill(connection, cursor, statement, *args):
            if statement.startswith('INSERT INTO dead_letter') and (
                    not killer.killed):
                killer.kill(cursor.connection)

        sa.event.listen(conn.engine, 'before_cursor_execute', kill)
        try:
            with pytest.raises(storage.StorageUnavailable):
                conn.record_dead_letters([letter(1), letter(2)])
        finally:
            sa.event.remove(conn.engine, 'before_cursor_execute', kill)
            killer.admin.dispose()
        assert killer.killed, 'the failure was never injected'
        assert conn.count_dead_letters() == 0
        conn.record_dead_letters([letter(1), letter(2)])
        assert numbers(conn.get_dead_letters()) == ['m-1', 'm-2']
        conn.engine.dispose()


def test_the_log_driver_logs_scrubbed_letters(caplog):
    conn = storage.get_connection(backends.make_conf(), 'log://')
    # oslo.log's set-up replaced the root handlers, pytest's included.
    logging.getLogger().addHandler(caplog.handler)
    caplog.set_level(logging.WARNING, 'panko.storage.impl_log')
    conn.record_dead_letters([letter(1, reason='bad\nline', payload={
        'ctxt': {'auth_token': 'gAAAA-secret'}, 'x': 1})])
    [record] = caplog.records
    message = record.getMessage()
    assert 'gAAAA-secret' not in message
    assert 'bad\\nline' in message and '\n' not in message
    assert '"auth_token": "***"' in message
    assert conn.get_dead_letters() == []
    assert conn.count_dead_letters() == 0
    assert conn.delete_dead_letters() == 0
