import datetime

import pytest

from panko import safe_text
from panko.storage import models

T = models.Trait


@pytest.mark.parametrize('dtype, value, expected', [
    (T.INT_TYPE, '42', 42),
    (T.INT_TYPE, 42.0, 42),
    (T.INT_TYPE, -7, -7),
    (T.FLOAT_TYPE, '0.25', 0.25),
    (T.FLOAT_TYPE, 3, 3.0),
    (T.TEXT_TYPE, 12, '12'),
    (T.NONE_TYPE, 'x', 'x'),
    (T.DATETIME_TYPE, '2026-11-25T03:06:08',
     datetime.datetime(2026, 11, 25, 3, 6, 8)),
    (T.DATETIME_TYPE, '2026-11-25 03:06:08.935699',
     datetime.datetime(2026, 11, 25, 3, 6, 8, 935699)),
    (T.DATETIME_TYPE, '2026-11-25T05:06:08+02:00',
     datetime.datetime(2026, 11, 25, 3, 6, 8)),
])
def test_convert_value(dtype, value, expected):
    converted = T.convert_value(dtype, value)
    assert converted == expected
    assert type(converted) is type(expected)


@pytest.mark.parametrize('dtype, value', [
    (T.INT_TYPE, 'forty'),
    (T.INT_TYPE, 4.5),
    (T.INT_TYPE, True),
    (T.FLOAT_TYPE, 'fast'),
    (T.FLOAT_TYPE, False),
    (T.FLOAT_TYPE, float('nan')),
    (T.FLOAT_TYPE, '-inf'),
    (T.DATETIME_TYPE, 'tomorrow'),
    (T.DATETIME_TYPE, 12),
    (T.TEXT_TYPE, {'a': 1}),
    (7, 'x'),
])
def test_convert_value_refuses_what_does_not_fit(dtype, value):
    with pytest.raises((ValueError, TypeError)):
        T.convert_value(dtype, value)


def test_type_names_round_trip():
    for dtype, name in T.TYPE_NAMES.items():
        assert T.type_from_name(name) == dtype
    with pytest.raises(KeyError):
        T.type_from_name('boolean')


def test_owner_takes_the_string_owner_traits():
    event = models.Event('m', 'e', '2026-01-01T00:00:00', [
        T('project_id', T.TEXT_TYPE, 'p1'), T('user_id', T.INT_TYPE, 7),
        T('name', T.TEXT_TYPE, 'vm')])
    assert event.owner() == {'project_id': 'p1', 'user_id': None}
    assert models.Event('m', 'e', '2026-01-01T00:00:00', []).owner() == {
        'project_id': None, 'user_id': None}


def test_validated_keeps_the_last_value_of_a_repeated_trait():
    event = models.Event('m', 'e', '2026-01-01T00:00:00', [
        T('b', T.INT_TYPE, '1'), T('a', T.TEXT_TYPE, 'x'),
        T('b', T.INT_TYPE, 2)])
    assert event.validated().traits == [T('a', 1, 'x'), T('b', 2, 2)]


class Text(str):
    """A str subclass: not stored as it is, but as a plain str."""


@pytest.mark.parametrize('given, expected', [
    # Already storable: kept as they are.
    (T('s', T.TEXT_TYPE, 'x' * 255), T('s', T.TEXT_TYPE, 'x' * 255)),
    (T('i', T.INT_TYPE, 2 ** 63 - 1), T('i', T.INT_TYPE, 2 ** 63 - 1)),
    (T('f', T.FLOAT_TYPE, 0.5), T('f', T.FLOAT_TYPE, 0.5)),
    (T('d', T.DATETIME_TYPE, datetime.datetime(2026, 1, 1)),
     T('d', T.DATETIME_TYPE, datetime.datetime(2026, 1, 1))),
    # Near misses: converted as before.
    (T('s', T.TEXT_TYPE, 'x' * 256), T('s', T.TEXT_TYPE, 'x' * 255)),
    (T('s', T.TEXT_TYPE, Text('x')), T('s', T.TEXT_TYPE, 'x')),
    (T('s', T.NONE_TYPE, 'x'), T('s', T.TEXT_TYPE, 'x')),
    (T('i', T.INT_TYPE, 3.0), T('i', T.INT_TYPE, 3)),
    (T('f', T.FLOAT_TYPE, 3), T('f', T.FLOAT_TYPE, 3.0)),
    (T('d', T.DATETIME_TYPE, datetime.datetime(
        2026, 1, 1, 2, tzinfo=datetime.timezone(datetime.timedelta(
            hours=2)))),
     T('d', T.DATETIME_TYPE, datetime.datetime(2026, 1, 1))),
])
def test_validated_trait_values(given, expected):
    event = models.Event('m', 'e', '2026-01-01T00:00:00', [given])
    [trait] = event.validated().traits
    assert trait == expected
    assert type(trait.value) is type(expected.value)


@pytest.mark.parametrize('trait', [
    T('i', T.INT_TYPE, True),
    T('i', T.INT_TYPE, 2 ** 63),
    T('i', T.INT_TYPE, -2 ** 63 - 1),
    T('f', T.FLOAT_TYPE, float('inf')),
    T('f', T.FLOAT_TYPE, float('nan')),
    T('', T.TEXT_TYPE, 'x'),
    T('n' * 256, T.TEXT_TYPE, 'x'),
    T(b'name', T.TEXT_TYPE, 'x'),
    T('s', 9, 'x'),
    T('s', [1], 'x'),
    T('s\ud800', T.TEXT_TYPE, 'x'),
    T('d', T.DATETIME_TYPE, '9999-12-31T23:59:59-05:00'),
    T('d', T.DATETIME_TYPE, '0001-01-01T00:00:00+00:01'),
    T('d', T.DATETIME_TYPE, datetime.datetime(999, 12, 31, 23, 59, 59)),
    T('f', T.FLOAT_TYPE, 10 ** 400),
    T('i', T.INT_TYPE, '1' * 5000),
])
def test_validated_rejects_traits_that_do_not_fit(trait):
    event = models.Event('m', 'e', '2026-01-01T00:00:00', [trait])
    with pytest.raises(models.InvalidEvent):
        event.validated()


@pytest.mark.parametrize('changes, reason', [
    ({'message_id': 'm\udc00'}, 'message_id'),
    ({'message_id': 7}, 'message_id is missing'),
    ({'event_type': '\ud83d'}, 'event_type'),
    ({'generated': '9999-12-31T23:59:59-05:00'}, 'once converted to UTC'),
    ({'generated': datetime.datetime(
        1, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))},
     'once converted to UTC'),
    ({'generated': '0999-01-01T00:00:00'}, 'before 1000-01-01'),
    ({'generated': 12}, 'not a valid time'),
    ({'traits': None}, 'traits is not a list'),
    ({'traits': ['x']}, 'not a Trait'),
    ({'raw': {'x': float('nan')}}, 'raw is not a JSON document'),
    ({'raw': {'x': {1, 2}}}, 'raw is not a JSON document'),
    ({'raw': 'text'}, 'raw is not a JSON object'),
])
def test_validated_rejects_events_no_engine_stores(changes, reason):
    event = models.Event('m', 'e', '2026-01-01T00:00:00', [], {})
    for name, value in changes.items():
        setattr(event, name, value)
    with pytest.raises(models.InvalidEvent, match=reason):
        event.validated()


def test_text_values_are_mended_not_refused():
    event = models.Event('m', 'e', '2026-01-01T00:00:00', [
        T('s', T.TEXT_TYPE, 'a\ud800b\x00c\udfff' + 'x' * 300),
        T('n', T.NONE_TYPE, '\udc00')])
    valid = event.validated()
    assert valid.traits == [
        T('n', T.TEXT_TYPE, '\ufffd'),
        T('s', T.TEXT_TYPE, ('a\ufffdbc\ufffd' + 'x' * 300)[:255])]


def test_times_at_the_limits_are_kept():
    event = models.Event('m', 'e', '1000-01-01T05:30:00+05:30', [
        T('d', T.DATETIME_TYPE, '9999-12-31T23:59:59.999999')])
    valid = event.validated()
    assert valid.generated == models.MIN_DATETIME
    assert valid.traits[0].value == datetime.datetime.max


def test_limits_count_traits_and_raw_json_bytes():
    event = models.Event('m', 'e', '2026-01-01T00:00:00',
                         [T('a', T.INT_TYPE, 1), T('b', T.INT_TYPE, None)],
                         {'k': '\u00e9'})
    # '{"k": "\\u00e9"}': every character beyond ASCII is escaped.
    assert event.validated().raw_json == '{"k": "\\u00e9"}'
    assert event.validated(models.EventLimits(raw_size=15, traits=2))
    with pytest.raises(models.InvalidEvent, match='raw takes 15 bytes'):
        event.validated(models.EventLimits(raw_size=14))
    with pytest.raises(models.InvalidEvent, match='has 2 traits'):
        event.validated(models.EventLimits(traits=1))


@pytest.mark.parametrize('text, expected', [
    ('plain ascii', False), ('caf\u00e9 \U0001f600', False),
    ('tab\tand\u00a0nbsp', False), ('\ud800', True),
    ('\u00a0\udfff', True), ('', False),
])
def test_has_surrogate(text, expected):
    assert models.has_surrogate(text) is expected


@pytest.mark.parametrize('sort, expected', [
    ([], [('generated', 'asc'), ('message_id', 'asc')]),
    ([('generated', 'desc')], [('generated', 'desc'), ('message_id', 'desc')]),
    ([('message_id', 'desc'), ('generated', 'asc')],
     [('message_id', 'desc'), ('generated', 'asc')]),
    ([('generated', 'asc'), ('generated', 'desc')],
     [('generated', 'asc'), ('message_id', 'asc')]),
])
def test_sort_order_ends_with_message_id(sort, expected):
    assert models.Pagination(sort=sort).sort_order() == expected


@pytest.mark.parametrize('text, expected', [
    ('2026-11-27T10:00:00.123456', datetime.datetime(
        2026, 11, 27, 10, 0, 0, 123456)),
    ('2026-11-27T10:00:00+02:00', datetime.datetime(2026, 11, 27, 8)),
    ('2026-11-27T10:00:00Z', datetime.datetime(2026, 11, 27, 10)),
    ('2026-11-27 10:00:00', datetime.datetime(2026, 11, 27, 10)),
    ('2026-11-27T10:00:00.1234567', datetime.datetime(
        2026, 11, 27, 10, 0, 0, 123456)),
    ('2026-11-27', datetime.datetime(2026, 11, 27)),
    # Forms only iso8601 reads:
    ('20261127T100000Z', datetime.datetime(2026, 11, 27, 10)),
    ('2026-11-27T10:00:00.5-0130', datetime.datetime(
        2026, 11, 27, 11, 30, 0, 500000)),
])
def test_datetimes_are_read_in_every_iso8601_form(text, expected):
    assert models.normalize_datetime(text) == expected


@pytest.mark.parametrize('text', ['', 'yesterday', '2026-13-01T00:00:00',
                                  '2026-11-27T25:00:00'])
def test_datetimes_that_are_not_iso8601_are_refused(text):
    with pytest.raises(ValueError):
        models.normalize_datetime(text)


@pytest.mark.parametrize('value, expected', [
    ('12', "'12'"),
    (12, '12'),
    ('x' * 100, "'" + 'x' * 79 + '...'),
])
def test_shown_quotes_the_start_of_the_repr(value, expected):
    assert safe_text.shown(value) == expected


@pytest.mark.parametrize('text, limit, expected', [
    ('plain text', 20, 'plain text'),
    ('a\nb\r\tc\x00\x1b\x7f', 40, 'a\\nb\\r\\tc\\x00\\x1b\\x7f'),
    ('\ud800 \u00e9 \u2603 \U0001f600', 60,
     '\\ud800 \\xe9 \\u2603 \\U0001f600'),
    ('x' * 10, 10, 'x' * 10),
    ('x' * 11, 10, 'xxxxxxx...'),
    ('\n' * 10, 10, '\\n\\n\\n...'),
    ('ab\ud800', 8, 'ab\\ud800'),
    ('abc\ud800', 8, 'abc...'),
    (None, 10, None),
    (12345, 10, '12345'),
])
def test_printable(text, limit, expected):
    assert safe_text.printable(text, limit) == expected


@pytest.mark.parametrize('text, limit, expected', [
    ('plain text', 20, 'plain text'),
    ('\u00e9 \u2603 \U0001f600', 10, '\u00e9 \u2603 \U0001f600'),
    ('a\nb\x00\ud800\u2028', 40, 'a\\nb\\x00\\ud800\\u2028'),
    ('x' * 10, 10, 'x' * 10),
    ('x' * 11, 10, 'x' * 10 + '...'),
    ('\n' * 6, 10, '\\n' * 5 + '...'),
    ('ab\x00', 4, 'ab\\x...'),
    (12345, 10, '12345'),
])
def test_escaped(text, limit, expected):
    assert safe_text.escaped(text, limit) == expected
