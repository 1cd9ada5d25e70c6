"""The storage scenarios, run on every storage backend."""

import dataclasses
import datetime
import json

from oslo_utils import timeutils
import pytest

from panko import storage
from panko.storage import models

T = models.Trait
START = datetime.datetime(2026, 3, 1, 12, 0, 0)


def make_event(number, event_type='compute.instance.update', project='p1',
               user='u1', traits=(), generated=None, raw=None):
    """Event ``number``, one minute after the previous one."""
    all_traits = [T('instance_id', T.TEXT_TYPE, 'vm-%d' % (number % 3)),
                  T('memory_mb', T.INT_TYPE, 512 * number),
                  T('load', T.FLOAT_TYPE, number / 4),
                  T('launched_at', T.DATETIME_TYPE,
                    START + datetime.timedelta(hours=number))]
    if project is not None:
        all_traits.append(T('project_id', T.TEXT_TYPE, project))
    if user is not None:
        all_traits.append(T('user_id', T.TEXT_TYPE, user))
    all_traits.extend(traits)
    return models.Event(
        message_id='msg-%03d' % number, event_type=event_type,
        generated=generated or START + datetime.timedelta(minutes=number),
        traits=all_traits, raw=raw if raw is not None else {'n': number})


@pytest.fixture
def ten_events(conn):
    """msg-000..msg-009; even numbers are updates, odd ones deletes.

    Projects: p1 for 0-3, p2 for 4-6, no project_id trait for 7-9.
    """
    events = []
    for n in range(10):
        events.append(make_event(
            n,
            event_type=('compute.instance.update' if n % 2 == 0
                        else 'compute.instance.delete.end'),
            project='p1' if n < 4 else 'p2' if n < 7 else None,
            user='u1' if n % 3 else 'u2'))
    result = conn.record_events(events)
    assert len(result.stored) == 10
    return events


def ids(events):
    return [event.message_id for event in events]


def query(connection, **filters):
    pagination = filters.pop('pagination', None)
    return ids(connection.get_events(models.EventFilter(**filters),
                                     pagination))


class TestRecordAndRead:

    def test_round_trip_keeps_every_field(self, conn):
        event = make_event(
            1, generated=datetime.datetime(2026, 3, 1, 12, 0, 0, 123456),
            traits=[T('name', T.TEXT_TYPE, 'vm-\u00fc \u2603'),
                    T('big', T.INT_TYPE, 2 ** 62),
                    T('tiny', T.FLOAT_TYPE, 1e-05)],
            raw={'payload': {'nested': [1, 2.5, 'x']}, 'u': '\u00e9'})
        conn.record_events([event])
        [stored] = conn.get_events(models.EventFilter())
        assert stored.message_id == 'msg-001'
        assert stored.event_type == 'compute.instance.update'
        assert stored.generated == datetime.datetime(
            2026, 3, 1, 12, 0, 0, 123456)
        assert stored.raw == {'payload': {'nested': [1, 2.5, 'x']},
                              'u': '\u00e9'}
        assert stored.traits == sorted(
            [T('instance_id', 1, 'vm-1'), T('memory_mb', 2, 512),
             T('load', 3, 0.25),
             T('launched_at', 4, datetime.datetime(2026, 3, 1, 13, 0)),
             T('project_id', 1, 'p1'), T('user_id', 1, 'u1'),
             T('name', 1, 'vm-\u00fc \u2603'), T('big', 2, 2 ** 62),
             T('tiny', 3, 1e-05)], key=lambda trait: trait.name)

    def test_raw_as_json_is_the_text_json_dumps_wrote(self, conn):
        raws = [{'z': 1, 'a': [0.1, 1e16, -0.0, 2.5e-07, 2 ** 70, None,
                               True]},
                {'u': '\u00e9 \u2603 \U0001f600', 'q': '"\\/\n\t\x01'},
                {}]
        conn.record_events([make_event(n, raw=raw)
                            for n, raw in enumerate(raws)])
        decoded = conn.get_events(models.EventFilter())
        encoded = conn.get_events(models.EventFilter(), raw_as_json=True)
        assert [event.raw for event in decoded] == raws
        assert [event.raw for event in encoded] == [
            json.dumps(raw) for raw in raws]
        assert [dataclasses.replace(event, raw=None) for event in encoded
                ] == [dataclasses.replace(event, raw=None)
                      for event in decoded]

    def test_aware_times_are_stored_as_utc(self, conn):
        plus_two = datetime.timezone(datetime.timedelta(hours=2))
        event = make_event(1, generated=datetime.datetime(
            2026, 3, 1, 14, 0, tzinfo=plus_two), traits=[
            T('at', T.DATETIME_TYPE, '2026-03-01T14:00:00+02:00')])
        conn.record_events([event])
        [stored] = conn.get_events(models.EventFilter())
        assert stored.generated == datetime.datetime(2026, 3, 1, 12, 0)
        assert stored.trait('at').value == datetime.datetime(2026, 3, 1, 12)

    def test_duplicates_are_skipped_not_errors(self, conn):
        first = conn.record_events([make_event(1), make_event(2)])
        assert first.stored == ['msg-001', 'msg-002']
        again = make_event(2, event_type='other', project='p9')
        result = conn.record_events(
            [make_event(3), again, make_event(3), make_event(4)])
        assert sorted(result.stored) == ['msg-003', 'msg-004']
        assert sorted(result.duplicates) == ['msg-002', 'msg-003']
        assert result.rejected == []
        assert query(conn) == ['msg-001', 'msg-002', 'msg-003',
                                         'msg-004']
        [kept] = conn.get_events(
            models.EventFilter(message_id='msg-002'))
        assert kept.event_type == 'compute.instance.update'
        assert kept.trait('project_id').value == 'p1'

    def test_long_text_is_truncated_not_an_error(self, conn):
        long_value = 'x' * 300 + '\u00e9' * 100
        conn.record_events([make_event(1, traits=[
            T('description', T.TEXT_TYPE, long_value)])])
        [stored] = conn.get_events(models.EventFilter())
        assert stored.trait('description').value == long_value[
            :models.MAX_TEXT_LENGTH]

    def test_large_raw_is_kept_whole(self, conn):
        raw = {'payload': 'y' * 200000}
        conn.record_events([make_event(1, raw=raw)])
        [stored] = conn.get_events(models.EventFilter())
        assert stored.raw == raw

    def test_none_typed_traits_are_strings_and_null_values_dropped(
            self, conn):
        conn.record_events([make_event(1, traits=[
            T('untyped', T.NONE_TYPE, 42), T('empty', T.TEXT_TYPE, None)])])
        [stored] = conn.get_events(models.EventFilter())
        assert stored.trait('untyped') == T('untyped', T.TEXT_TYPE, '42')
        assert stored.trait('empty') is None

    @pytest.mark.parametrize('broken, reason', [
        (dict(message_id=''), 'message_id is missing'),
        (dict(event_type=None), 'event_type is missing'),
        (dict(generated='yesterday'), 'generated'),
        (dict(traits=[T('memory_mb', T.INT_TYPE, 'lots')]),
         'trait memory_mb'),
        (dict(traits=[T('ratio', T.INT_TYPE, 4.5)]), 'trait ratio'),
        (dict(traits=[T('ratio', T.FLOAT_TYPE, 'fast')]), 'trait ratio'),
        (dict(traits=[T('when', T.DATETIME_TYPE, 'soon')]), 'trait when'),
        (dict(traits=[T('huge', T.INT_TYPE, 2 ** 64)]), 'trait huge'),
        (dict(traits=[T('odd', 9, 'x')]), 'unknown type'),
        (dict(raw=['not', 'an', 'object']), 'raw'),
    ])
    def test_bad_event_is_rejected_and_the_rest_stored(
            self, conn, broken, reason):
        good = make_event(1)
        bad = make_event(2)
        for name, value in broken.items():
            if name == 'traits':
                bad.traits.extend(value)
            else:
                setattr(bad, name, value)
        result = conn.record_events([good, bad, make_event(3)])
        assert result.stored == ['msg-001', 'msg-003']
        [(message_id, why)] = result.rejected
        assert message_id == bad.message_id
        assert reason in why
        assert query(conn) == ['msg-001', 'msg-003']


class TestFilters:

    def test_no_filter_lists_everything_in_order(self, conn,
                                                 ten_events):
        assert query(conn) == ids(ten_events)

    def test_event_type(self, conn, ten_events):
        assert query(conn,
                     event_type='compute.instance.delete.end') == [
            'msg-001', 'msg-003', 'msg-005', 'msg-007', 'msg-009']
        assert query(conn, event_type='no.such.type') == []

    def test_message_id(self, conn, ten_events):
        assert query(conn, message_id='msg-004') == ['msg-004']
        assert query(conn, message_id='nope') == []

    def test_time_window_is_inclusive(self, conn, ten_events):
        assert query(
            conn,
            start_timestamp=START + datetime.timedelta(minutes=2),
            end_timestamp=START + datetime.timedelta(minutes=4)) == [
            'msg-002', 'msg-003', 'msg-004']

    @pytest.mark.parametrize('op, expected', [
        ('lt', [0, 1]), ('le', [0, 1, 2]), ('eq', [2]),
        ('ne', [0, 1, 3, 4, 5, 6, 7, 8, 9]), ('ge', [2, 3, 4, 5, 6, 7, 8, 9]),
        ('gt', [3, 4, 5, 6, 7, 8, 9]),
    ])
    @pytest.mark.parametrize('dtype, value', [
        (T.INT_TYPE, 1024),
        (T.FLOAT_TYPE, 0.5),
        (T.DATETIME_TYPE, START + datetime.timedelta(hours=2)),
    ])
    def test_typed_trait_operators(self, conn, ten_events,
                                   op, expected, dtype, value):
        name = {T.INT_TYPE: 'memory_mb', T.FLOAT_TYPE: 'load',
                T.DATETIME_TYPE: 'launched_at'}[dtype]
        trait_filter = models.TraitFilter(name, value, dtype, op)
        assert query(conn, traits_filter=[trait_filter]) == [
            'msg-%03d' % n for n in expected]

    @pytest.mark.parametrize('op, expected', [
        ('lt', [0, 3, 6, 9]), ('le', [0, 1, 3, 4, 6, 7, 9]),
        ('eq', [1, 4, 7]), ('ne', [0, 2, 3, 5, 6, 8, 9]),
        ('ge', [1, 2, 4, 5, 7, 8]), ('gt', [2, 5, 8]),
    ])
    def test_string_trait_operators(self, conn, ten_events,
                                    op, expected):
        trait_filter = models.TraitFilter('instance_id', 'vm-1',
                                          T.TEXT_TYPE, op)
        assert query(conn, traits_filter=[trait_filter]) == [
            'msg-%03d' % n for n in expected]

    @pytest.mark.parametrize('op, expected', [
        ('eq', [4, 5, 6]), ('ne', [0, 1, 2, 3]), ('lt', [0, 1, 2, 3]),
        ('ge', [4, 5, 6]),
    ])
    def test_project_id_trait_filter(self, conn, ten_events,
                                     op, expected):
        trait_filter = models.TraitFilter('project_id', 'p2',
                                          T.TEXT_TYPE, op)
        assert query(conn, traits_filter=[trait_filter]) == [
            'msg-%03d' % n for n in expected]

    def test_trait_filters_combine_with_and(self, conn,
                                            ten_events):
        filters = [models.TraitFilter('instance_id', 'vm-1'),
                   models.TraitFilter('memory_mb', 2048, T.INT_TYPE, 'ge'),
                   models.TraitFilter('user_id', 'u1')]
        assert query(conn, traits_filter=filters,
                     event_type='compute.instance.update') == ['msg-004']

    def test_filter_on_a_trait_of_another_type_matches_nothing(
            self, conn, ten_events):
        trait_filter = models.TraitFilter('memory_mb', '512')
        assert query(conn, traits_filter=[trait_filter]) == []


class TestOwnership:

    def test_project_restriction(self, conn, ten_events):
        assert query(conn, project_id='p2') == [
            'msg-004', 'msg-005', 'msg-006']

    def test_project_or_unowned(self, conn, ten_events):
        assert query(conn, project_id='p2',
                     include_unowned=True) == [
            'msg-004', 'msg-005', 'msg-006', 'msg-007', 'msg-008',
            'msg-009']

    def test_project_and_user(self, conn, ten_events):
        assert query(conn, project_id='p1', user_id='u2') == [
            'msg-000', 'msg-003']

    def test_unowned_pages_stay_in_order(self, conn, ten_events):
        seen, marker = [], None
        while True:
            page = query(conn, project_id='p1',
                         include_unowned=True,
                         pagination=models.Pagination(
                             limit=2, marker=marker,
                             sort=[('generated', 'desc')]))
            if not page:
                break
            seen.extend(page)
            marker = page[-1]
        assert seen == ['msg-009', 'msg-008', 'msg-007', 'msg-003',
                        'msg-002', 'msg-001', 'msg-000']

    def test_marker_of_an_invisible_event_is_invalid(self, conn,
                                                     ten_events):
        with pytest.raises(storage.InvalidMarker):
            conn.get_events(
                models.EventFilter(project_id='p1'),
                models.Pagination(limit=5, marker='msg-005'))


class TestPagination:

    @pytest.fixture
    def same_time_events(self, conn):
        """Seven events, three sharing each timestamp, out of order."""
        events = [make_event(n, generated=START + datetime.timedelta(
            seconds=n // 3)) for n in (6, 2, 4, 0, 5, 3, 1)]
        conn.record_events(events)
        return events

    @pytest.mark.parametrize('sort, expected', [
        (None, [0, 1, 2, 3, 4, 5, 6]),
        ([('generated', 'asc')], [0, 1, 2, 3, 4, 5, 6]),
        ([('generated', 'desc')], [6, 5, 4, 3, 2, 1, 0]),
        ([('generated', 'desc'), ('message_id', 'asc')],
         [6, 3, 4, 5, 0, 1, 2]),
        ([('message_id', 'desc')], [6, 5, 4, 3, 2, 1, 0]),
        ([('message_id', 'asc'), ('generated', 'desc')],
         [0, 1, 2, 3, 4, 5, 6]),
    ])
    @pytest.mark.parametrize('limit', [1, 2, 3, 100])
    def test_pages_cover_everything_once(self, conn,
                                         same_time_events, sort, expected,
                                         limit):
        seen, marker = [], None
        while True:
            page = query(conn, pagination=models.Pagination(
                limit=limit, marker=marker, sort=sort))
            assert len(page) <= limit
            if not page:
                break
            seen.extend(page)
            marker = page[-1]
        assert seen == ['msg-%03d' % n for n in expected]

    def test_pagination_with_filters(self, conn, ten_events):
        filters = dict(event_type='compute.instance.update')
        first = query(conn, pagination=models.Pagination(
            limit=2, sort=[('generated', 'desc')]), **filters)
        second = query(conn, pagination=models.Pagination(
            limit=2, marker=first[-1], sort=[('generated', 'desc')]),
            **filters)
        assert first + second == ['msg-008', 'msg-006', 'msg-004',
                                  'msg-002']

    def test_unknown_marker_is_invalid(self, conn, ten_events):
        with pytest.raises(storage.InvalidMarker):
            conn.get_events(
                models.EventFilter(),
                models.Pagination(limit=5, marker='no-such-event'))

    def test_bad_sort_is_refused(self):
        with pytest.raises(ValueError, match='sort key'):
            models.Pagination(sort=[('event_type', 'asc')]).sort_order()
        with pytest.raises(ValueError, match='direction'):
            models.Pagination(sort=[('generated', 'up')]).sort_order()


class TestDescriptions:

    def test_event_types_are_sorted_names(self, conn, ten_events):
        assert conn.get_event_types() == [
            'compute.instance.delete.end', 'compute.instance.update']

    def test_trait_types_of_an_event_type(self, conn, ten_events):
        conn.record_events([make_event(
            20, event_type='compute.instance.update', traits=[
                T('state', T.TEXT_TYPE, 'active')])])
        assert conn.get_trait_types('compute.instance.update') == [
            {'name': 'instance_id', 'data_type': T.TEXT_TYPE},
            {'name': 'launched_at', 'data_type': T.DATETIME_TYPE},
            {'name': 'load', 'data_type': T.FLOAT_TYPE},
            {'name': 'memory_mb', 'data_type': T.INT_TYPE},
            {'name': 'project_id', 'data_type': T.TEXT_TYPE},
            {'name': 'state', 'data_type': T.TEXT_TYPE},
            {'name': 'user_id', 'data_type': T.TEXT_TYPE},
        ]
        assert conn.get_trait_types('nothing') == []

    def test_traits_of_an_event_type(self, conn, ten_events):
        traits = conn.get_traits('compute.instance.delete.end',
                                           'memory_mb')
        assert sorted(trait.value for trait in traits) == [
            512, 1536, 2560, 3584, 4608]
        assert {trait.dtype for trait in traits} == {T.INT_TYPE}
        everything = conn.get_traits('compute.instance.delete.end')
        assert len(everything) == 3 * 6 + 2 * 5
        assert {t.name for t in everything} == {
            'instance_id', 'memory_mb', 'load', 'launched_at', 'project_id',
            'user_id'}

    def test_capabilities(self, conn):
        assert conn.get_capabilities() == {
            'events': {'query': {'simple': True}}}
        assert conn.get_storage_capabilities() == {
            'storage': {'production_ready': True}}


class TestExpiry:

    def test_old_events_and_empty_types_are_removed(self, conn):
        now = timeutils.utcnow()
        old = [make_event(n, event_type='old.type',
                          generated=now - datetime.timedelta(days=2))
               for n in range(5)]
        recent = [make_event(n, generated=now - datetime.timedelta(hours=1))
                  for n in range(5, 8)]
        conn.record_events(old + recent)
        deleted = conn.clear_expired_data(86400)
        assert deleted == 5
        assert query(conn) == ['msg-005', 'msg-006', 'msg-007']
        assert conn.get_event_types() == ['compute.instance.update']
        assert conn.get_trait_types('old.type') == []
        assert conn.get_traits('old.type') == []
        # The event type comes back when used again.
        conn.record_events([make_event(9, event_type='old.type')])
        assert query(conn, event_type='old.type') == ['msg-009']

    def test_batch_size_bounds_one_run(self, conn):
        # Just past the TTL: in the partition holding the cutoff, where a
        # partitioned store deletes row by row too.
        old = timeutils.utcnow() - datetime.timedelta(days=1, seconds=1)
        conn.record_events([make_event(n, generated=old)
                                      for n in range(7)])
        assert conn.clear_expired_data(86400, max_count=3) == 3
        assert len(query(conn)) == 4
        assert conn.clear_expired_data(86400, max_count=0) == 4
        assert query(conn) == []
