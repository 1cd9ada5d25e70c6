"""The API's limits and its answers to malformed input, on every backend.

Each case here answered 500 (or ran for minutes) before: every answer is
now a 4xx (503 for a query cut by ``[api] query_timeout``) in the fault
format, naming the problem, never an exception's text or SQL.
"""

import json
import logging
import time

import pytest
import sqlalchemy as sa
import webtest

from panko import storage
from panko.api import app
from panko.api import middleware
from panko.api import query
from panko.storage import models
from panko.tests import backends
from panko.tests.functional.api.data import ADMIN
from panko.tests.functional.api.data import MEMBER

JSON = 'application/json'
SQL_WORDS = (b'SELECT', b'INSERT', b'[SQL:', b'psycopg', b'pymysql',
             b'sqlite3', b'bigint', b'Traceback')


def fault(response, status):
    """The fault of an error answer, checked for the documented format."""
    assert response.status_int == status
    assert response.content_type == JSON
    document = response.json
    assert list(document) == ['error_message']
    assert set(document['error_message']) == {
        'faultstring', 'faultcode', 'debuginfo'}
    for word in SQL_WORDS:
        assert word not in response.body
    return document['error_message']


def request(api, path, method='GET', body=None, headers=ADMIN,
            content_type=JSON):
    return api.request(path, method=method, body=body,
                       headers=dict(headers, **{'Content-Type':
                                                content_type}),
                       expect_errors=True)


def filters(count):
    return '&'.join('q.field=f%d&q.value=v%d' % (i, i) for i in range(count))


def body_filters(count):
    return json.dumps({'q': [{'field': 'f%d' % i, 'value': 'v%d' % i}
                             for i in range(count)]}).encode()


class TestFormerInternalErrors:
    """The requests of the issue's fuzzing that answered 500."""

    @pytest.mark.parametrize('path, words', [
        ('/v2/events/a%00b', ['path', 'NUL']),
        ('/v2/event_types/a%00/traits', ['path', 'NUL']),
        ('/v2/events?marker=a%00b', ['marker', 'NUL']),
        ('/v2/events?q.field=a%00b&q.value=1', ['q.field', 'NUL']),
        ('/v2/events?q.field=a&q.value=1%00', ['q.value', 'NUL']),
        ('/v2/events?q.field=event_type&q.value=x%00',
         ['q.value', 'NUL']),
        ('/v2/events/%FF', ['path', 'UTF-8']),
        ('/v2/events?q.field=%FF&q.value=1', ['query string', 'UTF-8']),
        ('/v2/events?marker=%ED%A0%80', ['query string', 'UTF-8']),
        ('/v2/events?q.field=memory_mb&q.type=integer&q.value=%d' % 2 ** 63,
         ['Unable to convert', 'integer', 'memory_mb']),
        ('/v2/events?q.field=memory_mb&q.type=integer&q.value=-%d'
         % (2 ** 63 + 1), ['Unable to convert', 'integer']),
    ])
    def test_query_input(self, api, events, path, words):
        found = fault(api.get(path, headers=ADMIN, expect_errors=True), 400)
        assert found['faultcode'] == 'Client'
        for word in words:
            assert word in found['faultstring']

    def test_64_bit_integers_still_filter(self, api, events):
        for value in (2 ** 63 - 1, -2 ** 63):
            response = api.get('/v2/events?q.field=memory_mb&q.type=integer'
                               '&q.op=lt&q.value=%d' % value, headers=ADMIN)
            assert response.status_int == 200

    @pytest.mark.parametrize('method', ['GET', 'POST'])
    @pytest.mark.parametrize('depth', [33, 1000, 100000])
    def test_deeply_nested_json(self, api, method, depth):
        body = b'[' * depth + b']' * depth
        if method == 'GET':
            body = b'{"q": ' + body + b'}'
        found = fault(request(api, '/v2/events', method, body), 400)
        assert 'deeper than 32 levels' in found['faultstring']

    @pytest.mark.parametrize('method', ['GET', 'POST'])
    def test_unbalanced_json(self, api, method):
        found = fault(request(api, '/v2/events', method, b'[' * 100000), 400)
        assert 'not in valid JSON' in found['faultstring']

    def test_nesting_within_the_limit_is_taken(self, api, conn):
        raw = ['x']
        for _ in range(15):
            raw = {'k': [raw]}
        # 32 levels with the event object itself.
        body = json.dumps({'message_id': 'deep', 'event_type': 't',
                           'generated': '2026-03-01T12:00:00', 'traits': [],
                           'raw': raw}).encode()
        response = request(api, '/v2/events', 'POST', body)
        assert response.status_int == 201, response.body
        assert response.json['stored'] == 1

    @pytest.mark.parametrize('body, words', [
        ({'q': [1, 2]}, ['q must be a list of filter objects']),
        ({'q': [{'field': 'a', 'value': 'b'}, 'x']}, ['filter objects']),
        ({'q': [{'field': 'a', 'value': 'a\x00'}]}, ['NUL']),
        ({'marker': 'a\x00'}, ['NUL']),
        ({'q': [{'field': 'memory_mb', 'type': 'integer',
                 'value': 2 ** 70}]}, ['Unable to convert', 'integer']),
        ({'q': 'x'}, ['q', 'list']),
        ({'q': {'field': 'a'}}, ['q', 'list']),
        ({'sort': {'a': 1}}, ['sort']),
        ({'sort': [None]}, ['sort']),
        ({'limit': [1]}, ['limit']),
        ({'limit': {}}, ['limit']),
        ({'marker': [None]}, ['marker']),
        ({'marker': 5}, ['marker']),
        ([1], ['JSON dict']),
    ])
    def test_wrong_shapes_of_query_bodies(self, api, events, body, words):
        found = fault(request(api, '/v2/events', 'GET',
                              json.dumps(body).encode()), 400)
        for word in words:
            assert word in found['faultstring']

    def test_bare_q_parameter(self, api, events):
        found = fault(api.get('/v2/events?q=', headers=ADMIN,
                              expect_errors=True), 400)
        assert 'q.field' in found['faultstring']

    def test_lone_surrogate_in_a_query_body(self, api, events):
        body = b'{"q": [{"field": "a", "value": "\\ud800"}]}'
        found = fault(request(api, '/v2/events', 'GET', body), 400)
        assert 'surrogate' in found['faultstring']

    @pytest.mark.parametrize('method', ['GET', 'POST'])
    def test_body_not_utf8(self, api, method):
        body = b'{"q": [{"field": "\xff", "value": "1"}]}'
        found = fault(request(api, '/v2/events', method, body), 400)
        assert 'not valid UTF-8' in found['faultstring']

    @pytest.mark.parametrize('content_type', [
        'application/x-www-form-urlencoded', 'text/plain',
        'application/json; charset=latin-1', 'application/json; charset=x'])
    @pytest.mark.parametrize('path', ['/v2/events', '/'])
    def test_body_not_json_in_utf8(self, api, content_type, path):
        # The version document too (found by a longer generated run).
        found = fault(request(api, path, 'POST', b'[]',
                              content_type=content_type), 415)
        assert 'JSON' in found['faultstring']

    @pytest.mark.parametrize('method', ['PUT', 'DELETE', 'PATCH', 'FOO'])
    @pytest.mark.parametrize('path', ['/v2/events', '/v2/events/x',
                                      '/v2/event_types',
                                      '/v2/event_types/x/traits',
                                      '/v2/capabilities'])
    def test_other_methods(self, api, method, path):
        response = request(api, path, method, b'{"a": {"b": [1]}}')
        fault(response, 405)

    @pytest.mark.parametrize('method', ['PUT', 'POST', 'DELETE', 'FOO'])
    def test_version_discovery_is_get_only(self, api, method):
        response = request(api, '/', method, b'{}')
        fault(response, 405)
        assert response.headers['Allow'] == 'GET, HEAD'
        assert api.head('/').status_int == 200

    def test_post_with_non_ascii_signature(self, api, api_conf, conn):
        api_conf.set_override('telemetry_secret', 'secret', 'dispatcher')
        try:
            body = json.dumps({
                'message_id': 'signed', 'event_type': 't',
                'generated': '2026-03-01T12:00:00', 'traits': [], 'raw': {},
                'message_signature': '\u00e9' * 64}).encode()
            response = request(api, '/v2/events', 'POST', body)
        finally:
            api_conf.clear_override('telemetry_secret', 'dispatcher')
        assert response.status_int == 201
        assert response.json['rejected'] == 1
        assert 'signature' in response.json['rejections'][0]['reason']


class TestFilterLimit:

    def test_the_limit_itself_is_allowed(self, api, events):
        assert api.get('/v2/events?' + filters(20),
                       headers=ADMIN).status_int == 200
        assert request(api, '/v2/events', 'GET',
                       body_filters(20)).status_int == 200

    @pytest.mark.parametrize('count', [21, 1000, 3000])
    def test_more_in_the_query_string(self, api, count):
        started = time.monotonic()
        found = fault(api.get('/v2/events?' + filters(count), headers=ADMIN,
                              expect_errors=True), 400)
        assert time.monotonic() - started < 3
        assert found['faultstring'] == (
            'Too many filters: %d q filters given, at most 20 are allowed '
            '([api] max_filters)' % count)

    @pytest.mark.parametrize('count', [21, 1000, 3000])
    def test_more_in_a_json_body(self, api, count):
        started = time.monotonic()
        found = fault(request(api, '/v2/events', 'GET', body_filters(count)),
                      400)
        assert time.monotonic() - started < 3
        assert '%d q filters given' % count in found['faultstring']

    def test_query_string_and_body_count_together(self, api):
        response = api.request('/v2/events?' + filters(11), method='GET',
                               headers=dict(ADMIN, **{'Content-Type': JSON}),
                               body=body_filters(10), expect_errors=True)
        assert '21 q filters given' in fault(response, 400)['faultstring']

    def test_the_option_sets_the_limit(self, storage_url, _session_connection,
                                       events):
        api = webtest.TestApp(app.load_app(backends.make_conf(
            storage_url, api__auth_mode='noauth', api__max_filters=2)))
        assert api.get('/v2/events?' + filters(2),
                       headers=ADMIN).status_int == 200
        found = fault(api.get('/v2/events?' + filters(3), headers=ADMIN,
                              expect_errors=True), 400)
        assert 'at most 2 are allowed' in found['faultstring']


class TestBodySizeLimit:

    def test_default_fits_ceilometer_batches(self, api_conf):
        assert api_conf.oslo_middleware.max_request_body_size == 8 * 2 ** 20

    @pytest.mark.parametrize('headers', [ADMIN, MEMBER])
    def test_31_mb_body_is_refused_at_once(self, api, headers):
        body = b'[' + b'{"message_id": "x"},' * (31 * 2 ** 20 // 20) + b'{}]'
        started = time.monotonic()
        found = fault(request(api, '/v2/events', 'POST', body, headers), 413)
        assert time.monotonic() - started < 3
        assert found['faultstring'] == (
            'The request body is larger than 8388608 bytes, the limit of '
            '[oslo_middleware] max_request_body_size')

    def test_a_body_within_the_limit_is_read(self, api, conn):
        events = [{'message_id': 'm%d' % i, 'event_type': 't',
                   'generated': '2026-03-01T12:00:00', 'traits': [],
                   'raw': {'pad': 'x' * 7500}} for i in range(1000)]
        body = json.dumps(events).encode()
        assert 7 * 2 ** 20 < len(body) < 8 * 2 ** 20
        response = request(api, '/v2/events', 'POST', body)
        assert response.json['stored'] == 1000

    def test_member_post_is_refused_before_its_body_is_decoded(self, api):
        # Not JSON: had the body been decoded first, the answer would be
        # the 400 of a malformed body.
        found = fault(request(api, '/v2/events', 'POST', b'{"a": [1, 2,,]}',
                              MEMBER), 403)
        assert found['faultstring'] == 'Access was denied to this resource.'


class TestInternalErrors:

    SECRET = 'SELECT secret FROM event\nforged log line'

    def fail(self, *args, **kwargs):
        raise RuntimeError(self.SECRET)

    def check(self, response, caplog):
        found = fault(response, 500)
        request_id = response.headers['X-OpenStack-Request-Id']
        assert found == {'faultstring': 'Internal error (request %s)'
                         % request_id,
                         'faultcode': 'Server', 'debuginfo': None}
        logged = caplog.text
        assert 'RuntimeError: SELECT secret FROM event' in logged
        assert 'Traceback' in logged

    def test_in_a_controller(self, api, monkeypatch, caplog):
        monkeypatch.setattr(query, 'event_filter', self.fail)
        self.check(api.get('/v2/events', headers=ADMIN, expect_errors=True),
                   caplog)

    def test_in_a_hook_is_not_logged_as_200(self, api, monkeypatch, caplog):
        monkeypatch.setattr(query, 'check_filter_parameters', self.fail)
        with caplog.at_level(logging.INFO):
            self.check(api.get('/v2/events', headers=ADMIN,
                               expect_errors=True), caplog)
        assert 'GET /v2/events: 500 Internal Server Error' in caplog.text
        assert '200 OK' not in caplog.text

    def test_in_the_middleware(self, api, monkeypatch, caplog):
        monkeypatch.setattr(middleware.InputChecks, 'check', self.fail)
        self.check(api.get('/v2/events', headers=ADMIN, expect_errors=True),
                   caplog)


class TestEchoedValues:

    def test_newlines_are_escaped(self, api):
        response = api.get('/v2/events?q.field=memory_mb&q.type=integer'
                           '&q.value=1%0A2026-01-01%20ERROR%20forged',
                           headers=ADMIN, expect_errors=True)
        found = fault(response, 400)
        assert '\n' not in found['faultstring']
        assert "'1\\n2026-01-01 ERROR forged'" in found['faultstring']

    def test_long_values_are_cut(self, api):
        body = json.dumps({'q': [{'field': 'memory_mb', 'type': 'integer',
                                  'value': 'x' * 2 ** 20}]}).encode()
        found = fault(request(api, '/v2/events', 'GET', body), 400)
        assert len(found['faultstring']) < 300
        assert "'xxxx" in found['faultstring']

    def test_long_marker_is_cut(self, api, events):
        found = fault(api.get('/v2/events?marker=' + 'm' * 100000,
                              headers=ADMIN, expect_errors=True), 400)
        assert len(found['faultstring']) < 300


def slow_query_events(count):
    """Events enough that 20 trait filters take a while on any engine."""
    return [models.Event(
        message_id='slow-%06d' % number, event_type='slow',
        generated=models.normalize_datetime('2026-03-01T12:00:00'),
        traits=[models.Trait('t%d' % trait, models.Trait.TEXT_TYPE,
                             'value %d' % number) for trait in range(4)],
        raw={}) for number in range(count)]


@pytest.fixture(scope='module', name='database',
                params=['postgresql', 'mysql', 'sqlite'])
def slow_database(request, tmp_path_factory):
    """A database of each SQL engine holding 10,000 slow_query_events."""
    with backends.temporary_database(
            request.param, str(tmp_path_factory.mktemp('slow'))) as url:
        connection = storage.get_connection(backends.make_conf(url), url)
        connection.upgrade()
        events = slow_query_events(10000)
        for start in range(0, len(events), 5000):
            connection.record_events(events[start:start + 5000])
        yield url


class TestQueryTimeout:
    """A query longer than [api] query_timeout is cut by the database.

    The query is slow for real: 20 trait filters (the default most) over
    10,000 events take from about 0.2 s (MariaDB) to minutes (PostgreSQL,
    as an administrator).
    """

    SLOW = '/v2/events?limit=1000&' + '&'.join(
        'q.field=t%d&q.op=ne&q.value=v%d' % (i % 4, i) for i in range(20))
    TIMEOUT = 0.01

    def api(self, url, query_timeout):
        return webtest.TestApp(app.load_app(backends.make_conf(
            url, api__auth_mode='noauth', api__query_timeout=query_timeout)))

    def test_cut_with_a_503(self, database):
        api = self.api(database, self.TIMEOUT)
        started = time.monotonic()
        response = api.get(self.SLOW, headers=ADMIN, expect_errors=True)
        assert time.monotonic() - started < 5
        found = fault(response, 503)
        assert found['faultstring'] == (
            'The query took longer than [api] query_timeout (0.01 seconds) '
            'allows; narrow it with filters or a smaller limit')
        # The connection serves the next request.
        assert api.get('/v2/events?limit=1&q.field=t0&q.value=value 7',
                       headers=ADMIN).json[0]['message_id'] == 'slow-000007'

    def test_only_the_api_connection_is_bounded(self, database):
        bounded = storage.get_connection(backends.make_conf(database),
                                         database, query_timeout=5)
        unbounded = storage.get_connection(backends.make_conf(database),
                                           database)
        engine = bounded.engine.dialect.name
        if engine == 'sqlite':
            pytest.skip('SQLite is bounded in the API process')
        question, bound, none = {
            'postgresql': ('SHOW statement_timeout', '5s', '0'),
            'mysql': ('SELECT @@max_statement_time', 5, 0)}[engine]
        with bounded.engine.connect() as conn:
            assert conn.scalar(sa.text(question)) == bound
        with unbounded.engine.connect() as conn:
            assert conn.scalar(sa.text(question)) == none

    def test_zero_means_no_limit(self, database):
        if database.startswith('postgresql'):
            pytest.skip('minutes on PostgreSQL')
        response = self.api(database, 0).get(self.SLOW, headers=ADMIN)
        assert len(response.json) == 1000
