"""Events no engine can store as given: rejected with a reason, never raised.

Run on every storage backend. An unrepresentable value (a time that
overflows in UTC or falls before year 1000, a lone surrogate, an integer
beyond 64 bits, a float that is not finite) or an event beyond the size
limits must be rejected alone, its reason given, the rest of its batch
stored; and whatever is stored must read back as validated.
"""

import datetime
import uuid

import hypothesis
from hypothesis import strategies as st
import pytest

from panko import storage
from panko.storage import models
from panko.tests import backends
from panko.tests.functional.storage import test_sql_migrations

T = models.Trait
WHEN = datetime.datetime(2026, 3, 1, 12)


def event(message_id, event_type='compute.instance.update', generated=WHEN,
          traits=(), raw=None):
    return models.Event(message_id, event_type, generated, list(traits),
                        raw if raw is not None else {'id': message_id})


def good(number):
    return event('good-%d' % number, traits=[
        T('instance_id', T.TEXT_TYPE, 'vm-%d' % number),
        T('memory_mb', T.INT_TYPE, 512)])


#: (event, words the reason must hold) for each way to be unstorable.
UNSTORABLE = [
    (event('late', generated='9999-12-31T23:59:59-05:00'),
     ['generated', 'out of range once converted to UTC']),
    (event('early', generated='0001-01-01T00:30:00+01:00'),
     ['generated', 'out of range once converted to UTC']),
    (event('ancient', generated=datetime.datetime(999, 12, 31, 23, 59)),
     ['generated', 'before 1000-01-01']),
    (event('trait-late', traits=[
        T('when', T.DATETIME_TYPE, '9999-12-31T23:00:00-01:30')]),
     ['trait when', 'out of range']),
    (event('trait-ancient', traits=[
        T('when', T.DATETIME_TYPE, datetime.datetime(1, 1, 1))]),
     ['trait when', 'before 1000-01-01']),
    (event('half-\ud83d'), ['message_id', 'lone surrogate']),
    (event('type', event_type='compute.\udc00'),
     ['event_type', 'lone surrogate']),
    (event('name', traits=[T('na\udfffme', T.TEXT_TYPE, 'x')]),
     ['trait name', 'lone surrogate']),
    (event('nul\x00id'), ['message_id', 'NUL']),
    (event('int', traits=[T('big', T.INT_TYPE, 2 ** 63)]),
     ['trait big', '64 bits']),
    (event('int-text', traits=[T('big', T.INT_TYPE, '9' * 30)]),
     ['trait big', '64 bits']),
    (event('nan', traits=[T('ratio', T.FLOAT_TYPE, float('nan'))]),
     ['trait ratio', 'not a finite number']),
    (event('inf', traits=[T('ratio', T.FLOAT_TYPE, '-inf')]),
     ['trait ratio', 'not a finite number']),
    (event('float-huge', traits=[T('ratio', T.FLOAT_TYPE, 10 ** 400)]),
     ['trait ratio']),
    (event('raw-nan', raw={'load': float('inf')}),
     ['raw is not a JSON document']),
    (event('raw-object', raw={'when': WHEN}),
     ['raw is not a JSON document']),
    (event('raw-big', raw={'payload': 'x' * (256 * 1024)}),
     ['raw takes 262159 bytes', '262144', '[storage] max_event_raw_size']),
    (event('traits', traits=[T('t%d' % n, T.INT_TYPE, n)
                             for n in range(257)]),
     ['257 traits', '256', '[storage] max_event_traits']),
]


def test_each_unstorable_event_is_rejected_alone_with_its_reason(conn):
    batch = [good(1)]
    for number, (bad, _) in enumerate(UNSTORABLE, 2):
        batch += [bad, good(number)]
    result = conn.record_events(batch)
    assert result.stored == ['good-%d' % n
                             for n in range(1, len(UNSTORABLE) + 2)]
    assert result.duplicates == []
    assert [mid for mid, _ in result.rejected] == [
        bad.message_id for bad, _ in UNSTORABLE]
    for (_, reason), (bad, words) in zip(result.rejected, UNSTORABLE,
                                         strict=True):
        for word in words:
            assert word in reason, (bad.message_id, reason)
    assert [e.message_id for e in conn.get_events(models.EventFilter())
            ] == sorted(result.stored)


def test_what_is_cleaned_is_stored(conn):
    """Surrogates and NULs of values and raw documents are kept or mended.

    The time limits are inclusive, and times just inside are stored.
    """
    kept = event('kept', generated='1000-01-01T00:00:00',
                 traits=[T('text', T.TEXT_TYPE, 'a\ud800b\x00c'),
                         T('last', T.DATETIME_TYPE,
                           '9999-12-31T23:59:59.999999'),
                         T('east', T.DATETIME_TYPE,
                           '1000-01-01T05:00:00+05:00')],
                 raw={'s': 'lone \udc00 and nul \x00', '\ud800': [None]})
    result = conn.record_events([kept])
    assert result.stored == ['kept'] and result.rejected == []
    [stored] = conn.get_events(models.EventFilter())
    assert stored.generated == datetime.datetime(1000, 1, 1)
    assert stored.traits == [
        T('east', T.DATETIME_TYPE, datetime.datetime(1000, 1, 1)),
        T('last', T.DATETIME_TYPE, datetime.datetime.max),
        T('text', T.TEXT_TYPE, 'a\ufffdbc')]
    assert stored.raw == kept.raw


def test_every_character_beyond_the_bmp(conn):
    """Emoji (four bytes in UTF-8), MySQL included, in every field."""
    smile = '\U0001f600'
    events = [event('m-%s' % smile, event_type='compute.%s' % smile,
                    traits=[T('name-%s' % smile, T.TEXT_TYPE,
                              'vm %s \U00010348' % smile)],
                    raw={smile: smile})]
    assert conn.record_events(events).stored == ['m-%s' % smile]
    [stored] = conn.get_events(models.EventFilter(
        event_type='compute.%s' % smile, traits_filter=[models.TraitFilter(
            'name-%s' % smile, 'vm %s \U00010348' % smile)]))
    assert stored == events[0].validated()
    assert conn.get_event_types() == ['compute.%s' % smile]


def test_ids_differing_in_case_or_trailing_spaces_are_distinct(conn):
    """As every engine compares them (not MySQL's old utf8_general_ci)."""
    events = [event('a', event_type='Type', traits=[
                  T('k', T.TEXT_TYPE, 'x'), T('K', T.TEXT_TYPE, 'y'),
                  T('k ', T.TEXT_TYPE, 'z')]),
              event('A', event_type='type'),
              event('a ', event_type='type ')]
    result = conn.record_events(events)
    assert sorted(result.stored) == ['A', 'a', 'a ']
    assert conn.get_event_types() == sorted(['Type', 'type', 'type '])
    [first] = conn.get_events(models.EventFilter(message_id='a'))
    assert first == events[0].validated()
    matched = conn.get_events(models.EventFilter(traits_filter=[
        models.TraitFilter('k', 'x')]))
    assert [e.message_id for e in matched] == ['a']


@pytest.fixture
def limited(storage_url):
    """A connection to the session's store with small limits."""
    connection = storage.get_connection(backends.make_conf(
        storage_url, storage__max_event_raw_size=100,
        storage__max_event_traits=2), storage_url)
    connection.clear()
    return connection


def test_limits_follow_the_options(limited):
    """At the limits an event is stored; one byte or trait more, not."""
    at_raw = event('at-raw', raw={'p': 'x' * 91})      # 100 bytes of JSON
    over_raw = event('over-raw', raw={'p': 'x' * 92})
    at_traits = event('at-traits', traits=[
        T('a', T.INT_TYPE, 1), T('b', T.INT_TYPE, 2)])
    over_traits = event('over-traits', traits=[
        T('a', T.INT_TYPE, 1), T('b', T.INT_TYPE, 2), T('c', T.INT_TYPE, 3)])
    result = limited.record_events([at_raw, over_raw, at_traits,
                                    over_traits])
    assert result.stored == ['at-raw', 'at-traits']
    assert result.rejected == [
        ('over-raw', 'raw takes 101 bytes as JSON, more than the limit of '
                     '100 ([storage] max_event_raw_size)'),
        ('over-traits', 'the event has 3 traits, more than the limit of 2 '
                        '([storage] max_event_traits)')]


def test_zero_sets_no_limit(storage_url):
    connection = storage.get_connection(backends.make_conf(
        storage_url, storage__max_event_raw_size=0,
        storage__max_event_traits=0), storage_url)
    connection.clear()
    big = event('big', raw={'p': 'x' * 300000},
                traits=[T('t%d' % n, T.INT_TYPE, n) for n in range(300)])
    assert connection.record_events([big]).stored == ['big']
    [stored] = connection.get_events(models.EventFilter())
    assert len(stored.traits) == 300 and stored.raw == big.raw


# Generated events: any text (surrogates and NULs too), any integer, times
# with any offset over the whole range Python has, floats with nan and
# infinities; a value of the wrong type sometimes.

TEXT = st.text(st.characters(exclude_categories=()), max_size=60)
OFFSETS = st.timedeltas(min_value=-datetime.timedelta(hours=23, minutes=59),
                        max_value=datetime.timedelta(hours=23, minutes=59))
AWARE = st.builds(lambda moment, offset: moment.replace(
    tzinfo=datetime.timezone(offset)), st.datetimes(), OFFSETS)
TIMES = st.one_of(st.datetimes(), AWARE,
                  AWARE.map(lambda moment: moment.isoformat()))
VALUES = {
    T.TEXT_TYPE: st.one_of(TEXT, st.text(max_size=300)),
    T.NONE_TYPE: st.one_of(TEXT, st.integers(), st.floats()),
    T.INT_TYPE: st.one_of(st.integers(min_value=-2 ** 70,
                                      max_value=2 ** 70),
                          st.integers().map(str), st.floats()),
    T.FLOAT_TYPE: st.one_of(st.floats(), st.integers(), TEXT),
    T.DATETIME_TYPE: st.one_of(TIMES, TEXT),
}
TRAITS = st.lists(
    st.sampled_from(sorted(VALUES)).flatmap(lambda dtype: st.builds(
        T, st.one_of(TEXT, st.sampled_from(['a', 'A', 'a ', 'project_id'])),
        st.just(dtype), st.one_of(st.none(), VALUES[dtype]))),
    max_size=8)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(TEXT, children, max_size=3), max_leaves=8)
EVENTS = st.lists(st.builds(
    event, TEXT, st.one_of(TEXT, st.sampled_from(['t', 'T', 't '])),
    TIMES, TRAITS, st.dictionaries(TEXT, JSON, max_size=4)),
    min_size=1, max_size=4)


@hypothesis.settings(
    max_examples=40, deadline=None, database=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture,
                           hypothesis.HealthCheck.too_slow])
@hypothesis.given(events=EVENTS)
def test_any_event_is_stored_as_validated_or_rejected(conn, events):
    # Unique message_ids across examples (the store is not cleared), and
    # within a batch.
    prefix = uuid.uuid4().hex[:8]
    for number, generated in enumerate(events):
        generated.message_id = '%s%d-%s' % (prefix, number,
                                            generated.message_id)
    expected = {}
    for generated in events:
        try:
            expected[generated.message_id] = generated.validated(conn.limits)
        except models.InvalidEvent:
            expected[generated.message_id] = None

    result = conn.record_events(events)
    hypothesis.event('stored %d of %d' % (len(result.stored), len(events)))

    assert result.duplicates == []
    assert sorted(result.stored) == sorted(
        mid for mid, valid in expected.items() if valid is not None)
    assert sorted(mid for mid, _ in result.rejected) == sorted(
        mid for mid, valid in expected.items() if valid is None)
    for message_id in result.stored:
        assert conn.get_events(models.EventFilter(
            message_id=message_id)) == [expected[message_id]]


@pytest.mark.parametrize('charset', ['utf8', 'utf8mb3', 'latin1'])
def test_mysql_charsets_short_of_utf8mb4_are_refused_at_start(
        tmp_path, charset):
    with backends.temporary_database('mysql', str(tmp_path)) as url:
        url += '?charset=%s' % charset
        with pytest.raises(storage.StorageError,
                           match='asks MySQL for the %s character set.*'
                                 'use charset=utf8mb4' % charset):
            storage.get_connection(backends.make_conf(url), url)
        result = test_sql_migrations.run_command(
            'panko-dbsync', url, directory=str(tmp_path))
        assert result.returncode != 0
        assert 'use charset=utf8mb4' in result.stderr
        assert 'Traceback' not in result.stderr


def test_mysql_url_naming_utf8mb4_is_kept(tmp_path):
    with backends.temporary_database('mysql', str(tmp_path)) as url:
        url += '?charset=utf8mb4'
        connection = storage.get_connection(backends.make_conf(url), url)
        connection.upgrade()
        with connection.engine.connect() as raw:
            assert raw.exec_driver_sql(
                'SELECT @@character_set_connection').scalar() == 'utf8mb4'
        connection.engine.dispose()
