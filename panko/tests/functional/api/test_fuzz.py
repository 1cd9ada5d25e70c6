"""Generated malformed and oversized requests, on every backend.

hypothesis sends the whole paste pipeline (noauth) odd paths, query
strings, JSON bodies, headers and methods; whatever it sends, the API
must answer below 500, every error in the documented fault format, and
never with SQL or an exception's text. The examples are derandomized
(the same on every run) and few per backend, to keep the suite short;
set PANKO_FUZZ_EXAMPLES for more.
"""

import json
import os
import time
from urllib import parse

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest

from panko.tests.functional.api import data

#: Examples per test and backend; PANKO_FUZZ_EXAMPLES raises it for a
#: longer search than the suite's.
EXAMPLES = int(os.environ.get('PANKO_FUZZ_EXAMPLES', 100))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
#: Seconds an answer may take at most, whatever was sent.
SLOWEST_ANSWER = 10
#: What an answer must never carry.
LEAKS = (b'SELECT', b'INSERT', b'[SQL:', b'psycopg', b'pymysql', b'sqlite3',
         b'Traceback', b'bigint', b'pymongo')

METHODS = st.sampled_from(['GET', 'GET', 'GET', 'POST', 'POST', 'PUT',
                           'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'FOO'])
TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(['', 'memory_mb', 'project_id', 'event_type',
                     'message_id', 'all_tenants', 'start_timestamp',
                     'msg-01', 'compute.instance.update', 'true', '1e400',
                     'NaN', '2026-03-01T12:00:00', '9' * 30, '-' + '9' * 20,
                     '\x00', '\ud800', 'a\nb', 'x' * 5000]))
RAW_BYTES = st.binary(max_size=20)


def encoded(value):
    """A query string or path segment carrying ``value`` (text or bytes)."""
    if isinstance(value, str):
        value = value.encode('utf-8', 'surrogatepass')
    return parse.quote(value, safe='')


SEGMENT = st.one_of(TEXT, RAW_BYTES).map(encoded)
PATHS = st.one_of(
    st.sampled_from(['/', '/v2', '/v2/', '/v2/events', '/v2/events/',
                     '/v2/event_types', '/v2/event_types/',
                     '/v2/capabilities', '/healthcheck']),
    SEGMENT.map(lambda s: '/v2/events/' + s),
    SEGMENT.map(lambda s: '/v2/event_types/%s/traits' % s),
    st.tuples(SEGMENT, SEGMENT).map(
        lambda pair: '/v2/event_types/%s/traits/%s' % pair),
    st.lists(SEGMENT, max_size=4).map(lambda parts: '/' + '/'.join(parts)))

PARAM_NAMES = st.one_of(
    st.sampled_from(['q.field', 'q.op', 'q.value', 'q.type', 'limit', 'sort',
                     'marker', 'all_tenants', 'q', 'q.field']),
    TEXT)
PARAM_VALUES = st.one_of(
    TEXT, RAW_BYTES,
    st.integers().map(str),
    st.sampled_from(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'like', 'string',
                     'integer', 'float', 'datetime', 'boolean',
                     'generated:asc', 'message_id:desc', 'traits:up']))
QUERY_STRINGS = st.one_of(
    st.lists(st.tuples(PARAM_NAMES, PARAM_VALUES), max_size=30).map(
        lambda pairs: '&'.join('%s=%s' % (encoded(n), encoded(v))
                               for n, v in pairs)),
    st.integers(min_value=15, max_value=400).map(
        lambda n: '&'.join('q.field=f%d&q.value=%d' % (i, i)
                           for i in range(n))),
    st.binary(max_size=60).map(lambda b: b.decode('latin-1')))

JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
    TEXT)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=20)
FILTERS = st.fixed_dictionaries({}, optional={
    'field': st.one_of(TEXT, JSON_VALUES),
    'op': st.one_of(st.sampled_from(['eq', 'ne', 'lt', 'ge', 'like']),
                    JSON_VALUES),
    'value': JSON_VALUES,
    'type': st.one_of(st.sampled_from(['string', 'integer', 'float',
                                       'datetime', 'x']), JSON_VALUES)})
QUERY_BODIES = st.fixed_dictionaries({}, optional={
    'q': st.one_of(st.lists(FILTERS, max_size=25), JSON_VALUES),
    'limit': JSON_VALUES, 'sort': JSON_VALUES, 'marker': JSON_VALUES})
EVENTS = st.fixed_dictionaries({}, optional={
    'message_id': JSON_VALUES, 'event_type': JSON_VALUES,
    'generated': st.one_of(st.just('2026-03-01T12:00:00'), JSON_VALUES),
    'traits': st.one_of(st.lists(st.lists(JSON_VALUES, max_size=4),
                                 max_size=4), JSON_VALUES),
    'raw': JSON_VALUES, 'message_signature': JSON_VALUES})


def nested(depth):
    return '[' * depth + ']' * depth


BODIES = st.one_of(
    st.none(),
    QUERY_BODIES.map(json.dumps),
    st.one_of(EVENTS, st.lists(EVENTS, max_size=4)).map(json.dumps),
    JSON_VALUES.map(json.dumps),
    st.integers(min_value=1, max_value=5000).map(nested),
    st.integers(min_value=1, max_value=3000).map(lambda d: '{"q": %s}'
                                                 % nested(d)),
    st.binary(max_size=100))
CONTENT_TYPES = st.sampled_from([
    'application/json', 'application/json', 'application/json',
    'application/json; charset=UTF-8', 'application/json; charset=latin-1',
    'application/json; charset=nonsense', 'text/plain', 'application/xml',
    'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
    ''])
ACCEPTS = st.sampled_from(['application/json', 'application/xml', '*/*',
                           'text/html', 'text/plain;q=0.5, nonsense', ''])
IDENTITIES = st.sampled_from([data.ADMIN, data.MEMBER, data.OTHER_PROJECT,
                              {'X-User-Id': 'u1'}, {},
                              {'X-User-Id': 'u1', 'X-Project-Id': 'p1',
                               'X-Roles': 'service'}])
REQUESTS = st.fixed_dictionaries({
    'method': METHODS, 'path': PATHS, 'query': QUERY_STRINGS,
    'body': BODIES, 'content_type': CONTENT_TYPES, 'accept': ACCEPTS,
    'identity': IDENTITIES})


def send(api, generated):
    path = generated['path']
    if generated['query']:
        path += '?' + generated['query']
    headers = dict(generated['identity'])
    if generated['accept']:
        headers['Accept'] = generated['accept']
    body = generated['body']
    if isinstance(body, str):
        body = body.encode('utf-8', 'surrogatepass')
    if body is not None and generated['content_type']:
        headers['Content-Type'] = generated['content_type']
    started = time.monotonic()
    response = api.request(path, method=generated['method'],
                           headers=headers, body=body, expect_errors=True)
    # A bound, not a speed goal: no request may hold a worker this long.
    assert time.monotonic() - started < SLOWEST_ANSWER, generated
    return response


def check(response, generated):
    """No 5xx, every error in the fault format, nothing leaked."""
    assert response.status_int < 500, response.body[:500]
    sent = repr(generated).encode()
    for word in LEAKS:
        assert word not in response.body or word in sent, word
    if response.status_int < 400 or generated['method'] == 'HEAD':
        return
    if response.content_type == 'application/xml':
        assert response.body.startswith(b"<?xml version='1.0' encoding="
                                        b"'utf-8'?>\n<error_message>")
        return
    assert response.content_type == 'application/json'
    fault = response.json['error_message']
    assert set(fault) == {'faultstring', 'faultcode', 'debuginfo'}
    assert isinstance(fault['faultstring'], str)
    assert '\n' not in fault['faultstring']
    assert len(fault['faultstring']) <= 1003
    assert fault['faultcode'] == 'Client'


@pytest.fixture
def fuzzed_api(_api, events):
    return _api


@FUZZ
@given(generated=REQUESTS)
def test_generated_requests(fuzzed_api, generated):
    check(send(fuzzed_api, generated), generated)


@FUZZ
@given(body=QUERY_BODIES, query=QUERY_STRINGS)
def test_generated_queries(fuzzed_api, body, query):
    generated = {'method': 'GET', 'path': '/v2/events', 'query': query,
                 'body': json.dumps(body), 'identity': data.ADMIN,
                 'content_type': 'application/json', 'accept': ''}
    check(send(fuzzed_api, generated), generated)


@FUZZ
@given(body=st.one_of(EVENTS, st.lists(EVENTS, max_size=5)),
       identity=IDENTITIES)
def test_generated_posts(fuzzed_api, body, identity):
    generated = {'method': 'POST', 'path': '/v2/events', 'query': '',
                 'body': json.dumps(body), 'identity': identity,
                 'content_type': 'application/json', 'accept': ''}
    check(send(fuzzed_api, generated), generated)
