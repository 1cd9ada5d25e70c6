"""GET /v2/events and /v2/events/{message_id}: output, filters, pages."""

import datetime
import json
from xml.etree import ElementTree

import pytest

from panko.tests import backends
from panko.tests.functional.api import data
from panko.tests.functional.api.data import ADMIN
from panko.tests.functional.api.data import LAYOUT
from panko.tests.functional.api.data import ids
from panko.tests.functional.api.data import visible

ALL = 'q.field=all_tenants&q.value=True'
EVERY_ID = [row[0] for row in LAYOUT]


def listing(api, query='', headers=ADMIN, status=200):
    """GET /v2/events as an admin over every project, plus ``query``.

    all_tenants comes last: the n-th q.op and q.type go with the n-th
    q.field, and it has neither.
    """
    separator = '&' if query else ''
    return api.get('/v2/events?' + query + separator + ALL,
                   headers=headers, status=status)


def json_query(api, body, status=200):
    return api.request('/v2/events', method='GET', headers=ADMIN,
                       content_type='application/json',
                       body=json.dumps(body).encode(), status=status)


class TestOutput:

    def test_event_document(self, api, events):
        [event] = listing(api, 'q.field=message_id&q.value=msg-06').json
        assert event == {
            'message_id': 'msg-06',
            'event_type': 'identity.authenticate',
            'generated': '2026-03-01T12:06:00.123456',
            'traits': [
                {'name': 'instance_id', 'type': 'string', 'value': 'vm-0'},
                {'name': 'launched_at', 'type': 'datetime',
                 'value': '2026-03-01T18:00:00.000005'},
                {'name': 'load', 'type': 'float', 'value': '1.5'},
                {'name': 'memory_mb', 'type': 'integer', 'value': '3072'},
                {'name': 'user_id', 'type': 'string', 'value': 'u1'},
            ],
            'raw': {'payload': {'n': 6, 'nested': [1, 'x']}},
        }

    def test_default_order_breaks_ties_by_message_id(self, api, events):
        assert ids(listing(api)) == EVERY_ID

    def test_empty_store(self, api, conn):
        assert listing(api).json == []

    def test_show_one_event(self, api, events):
        event = api.get('/v2/events/msg-04', headers=ADMIN).json
        assert event['message_id'] == 'msg-04'
        assert event['generated'] == '2026-03-01T12:04:00.123456'
        assert [t['name'] for t in event['traits']] == [
            'instance_id', 'launched_at', 'load', 'memory_mb',
            'project_id', 'user_id']

    def test_show_unknown_event_is_404(self, api, events):
        response = api.get('/v2/events/nope', headers=ADMIN, status=404)
        assert response.json['error_message'] == {
            'faultstring': 'Event nope not found', 'faultcode': 'Client',
            'debuginfo': None}

    def test_xml_when_only_xml_is_accepted(self, api, events):
        response = api.get('/v2/events/msg-04',
                           headers=dict(ADMIN, Accept='application/xml'))
        assert response.content_type == 'application/xml'
        assert b'<message_id>msg-04</message_id>' in response.body
        assert (b'<raw>{"payload": {"n": 4, "nested": [1, "x"]}}</raw>'
                in response.body)
        listing = api.get('/v2/events?limit=2',
                          headers=dict(ADMIN, Accept='application/xml'))
        assert listing.body.count(b'<item><message_id>') == 2
        assert (b'<item><name>instance_id</name><type>string</type>'
                b'<value>vm-0</value></item>' in listing.body)


#: Raw documents whose JSON text is easy to get wrong.
AWKWARD_RAWS = [
    {'z': 1, 'a': [0.1, 1e16, -0.0, 2.5e-07, 2 ** 70, None, True, False]},
    {'u': '\u00e9 \u2603 \U0001f600', 'q': '"\\/\n\t\x01',
     'nested': {'deep': [[], {}, [{'x': -1.5}]]}},
    {},
]


@pytest.fixture
def awkward_events(conn):
    """Events with the awkward raw documents and traits given unsorted."""
    stored = []
    for number, raw in enumerate(AWKWARD_RAWS):
        event = data.make_event('odd-%02d' % number, 'odd.event', 'p1',
                                'u1', number)
        event.raw = raw
        event.traits.append(data.T('name', data.T.TEXT_TYPE,
                                   'vm-\u00fc "\u2603"'))
        event.traits.reverse()
        stored.append(event)
    assert len(conn.record_events(stored).stored) == len(stored)
    return stored


def expected_json(event):
    """The document of ``event`` as WSME answered it, built another way."""
    def value(trait):
        if isinstance(trait.value, datetime.datetime):
            return trait.value.isoformat()
        return str(trait.value)
    return {'message_id': event.message_id,
            'event_type': event.event_type,
            'generated': event.generated.isoformat(),
            'traits': [{'name': trait.name,
                        'type': data.T.TYPE_NAMES[trait.dtype],
                        'value': value(trait)}
                       for trait in sorted(event.traits,
                                           key=lambda trait: trait.name)],
            'raw': event.raw}


class TestExactOutput:
    """The answers are, byte for byte, json.dumps of the documents."""

    def test_listing(self, api, awkward_events):
        response = listing(api)
        assert response.content_type == 'application/json'
        assert response.body == json.dumps(
            [expected_json(event) for event in awkward_events]).encode()

    def test_one_event(self, api, awkward_events):
        for event in awkward_events:
            response = api.get('/v2/events/' + event.message_id,
                               headers=ADMIN)
            assert response.body == json.dumps(
                expected_json(event)).encode()

    def test_empty_listing(self, api, conn):
        assert listing(api).body == b'[]'

    def test_xml_raw_is_its_json_text(self, api, awkward_events):
        for event in awkward_events:
            response = api.get('/v2/events/' + event.message_id,
                               headers=dict(ADMIN, Accept='text/xml'))
            root = ElementTree.fromstring(response.body)  # noqa: S314
            assert root.find('raw').text == json.dumps(event.raw)


class TestFilters:

    @pytest.mark.parametrize('query, expected', [
        ('q.field=event_type&q.value=identity.authenticate',
         ['msg-06', 'msg-08']),
        ('q.field=event_type&q.op=eq&q.value=no.such.type', []),
        ('q.field=message_id&q.value=msg-03', ['msg-03']),
        ('q.field=start_timestamp&q.op=ge&q.value=2026-03-01T12:07:00',
         ['msg-07', 'msg-08', 'msg-09']),
        ('q.field=end_timestamp&q.op=le&q.value=2026-03-01T12:01:00.123456',
         ['msg-00', 'msg-01']),
        ('q.field=start_timestamp&q.op=ge&q.value=2026-03-01T12:04:00Z'
         '&q.field=end_timestamp&q.op=le&q.value=2026-03-01T13:06:00%2B01:00',
         ['msg-04', 'msg-05']),
        ('q.field=project_id&q.value=p2', ['msg-03', 'msg-07']),
        ('q.field=instance_id&q.op=ne&q.value=vm-0&q.type=string',
         ['msg-01', 'msg-02', 'msg-04', 'msg-05', 'msg-07', 'msg-08']),
        ('q.field=instance_id&q.op=lt&q.value=vm-1',
         ['msg-00', 'msg-03', 'msg-06', 'msg-09']),
    ])
    def test_fields_and_string_traits(self, api, events, query, expected):
        assert ids(listing(api, query)) == expected

    @pytest.mark.parametrize('op, expected', [
        ('lt', ['msg-00', 'msg-01']),
        ('le', ['msg-00', 'msg-01', 'msg-02']),
        ('eq', ['msg-02']),
        ('ne', [m for m in EVERY_ID if m != 'msg-02']),
        ('ge', EVERY_ID[2:]),
        ('gt', EVERY_ID[3:]),
    ])
    def test_every_operator_on_integers(self, api, events, op, expected):
        query = 'q.field=memory_mb&q.type=integer&q.op=%s&q.value=1024' % op
        assert ids(listing(api, query)) == expected

    @pytest.mark.parametrize('query, expected', [
        ('q.field=load&q.type=float&q.op=gt&q.value=2', ['msg-09']),
        ('q.field=load&q.type=float&q.op=eq&q.value=0.25', ['msg-01']),
        ('q.field=launched_at&q.type=datetime&q.op=lt'
         '&q.value=2026-03-01T13:00:00.000005', ['msg-00']),
        ('q.field=launched_at&q.type=datetime&q.op=ge'
         '&q.value=2026-03-01T20:00:00.000005', ['msg-08', 'msg-09']),
    ])
    def test_float_and_datetime_traits(self, api, events, query, expected):
        assert ids(listing(api, query)) == expected

    def test_filters_combine_with_and(self, api, events):
        query = ('q.field=memory_mb&q.op=gt&q.value=1024&q.type=integer'
                 '&q.field=event_type&q.op=eq'
                 '&q.value=compute.instance.update'
                 '&q.field=project_id&q.op=eq&q.value=p1')
        assert ids(listing(api, query)) == ['msg-04', 'msg-09']

    def test_typed_and_untyped_filters_mixed(self, api, events):
        # The n-th q.type goes with the n-th q.field, so the typed filter
        # comes first; an empty q.type means the default, string.
        query = ('q.field=memory_mb&q.op=ge&q.value=2048&q.type=integer'
                 '&q.field=instance_id&q.value=vm-1&q.type='
                 '&q.field=project_id&q.value=p1')
        assert ids(listing(api, query)) == ['msg-04']

    def test_json_body_mixes_typed_and_untyped(self, api, events):
        body = {'q': [
            {'field': 'instance_id', 'value': 'vm-1'},
            {'field': 'memory_mb', 'op': 'ge', 'value': '2048',
             'type': 'integer'},
            {'field': 'all_tenants', 'value': 'true'},
        ]}
        assert ids(json_query(api, body)) == ['msg-04', 'msg-07']

    def test_json_body_values_may_be_numbers_and_booleans(self, api,
                                                          events):
        body = {'q': [
            {'field': 'memory_mb', 'op': 'ge', 'value': 4096,
             'type': 'integer'},
            {'field': 'load', 'op': 'lt', 'value': 2.1, 'type': 'float'},
            {'field': 'all_tenants', 'value': True},
        ]}
        assert ids(json_query(api, body)) == ['msg-08']
        body = {'q': [{'field': 'memory_mb', 'value': [1]}]}
        response = json_query(api, body, status=400)
        assert 'value' in response.json['error_message']['faultstring']

    def test_values_sent_without_url_encoding(self, api, events):
        # pankoclient puts values in the URL as they are.
        query = 'q.field=start_timestamp&q.op=ge&q.value=2026-03-01T12:09:00'
        assert ids(listing(api, query)) == ['msg-09']


class TestBadInput:

    @pytest.mark.parametrize('query, words', [
        ('foo=bar', ['Unknown argument', 'foo']),
        ('q.field=memory_mb&q.op=like&q.value=1', ['q.op', 'like']),
        ('q.field=event_type&q.op=ne&q.value=x', ['q.op', 'event_type']),
        ('q.field=message_id&q.op=gt&q.value=x', ['q.op', 'message_id']),
        ('q.field=start_timestamp&q.op=le&q.value=2026-03-01T00:00:00',
         ['q.op', 'start_timestamp']),
        ('q.field=end_timestamp&q.op=ge&q.value=2026-03-01T00:00:00',
         ['q.op', 'end_timestamp']),
        ('q.field=memory_mb&q.value=1&q.type=bigint', ['q.type', 'bigint']),
        ('q.field=memory_mb&q.value=abc&q.type=integer',
         ['Unable to convert the value abc to the expected data type '
          'integer', 'memory_mb']),
        ('q.field=memory_mb&q.value=1.5&q.type=integer',
         ['Unable to convert the value 1.5', 'integer']),
        ('q.field=load&q.value=x&q.type=float',
         ['Unable to convert the value x to the expected data type float']),
        ('q.field=launched_at&q.value=yesterday&q.type=datetime',
         ['Unable to convert the value yesterday', 'datetime']),
        ('q.field=start_timestamp&q.op=ge&q.value=soon',
         ['Unable to convert the value soon', 'start_timestamp']),
        ('q.field=all_tenants&q.value=maybe',
         ['Unable to convert the value maybe', 'boolean']),
        ('q.op=eq&q.value=1', ['q.op', 'q.field']),
        ('q.field=memory_mb', ['q.value is missing', 'memory_mb']),
        ('q.field=&q.value=1', ['q.field is missing']),
        ('limit=abc', ['limit', 'abc']),
        ('limit=1.5', ['limit']),
        ('limit=0', ['limit', 'positive']),
        ('limit=-3', ['limit', 'positive']),
        ('sort=traits:asc', ['sort', 'traits:asc']),
        ('sort=generated:up', ['sort', 'generated:up']),
        ('marker=no-such-event', ['marker', 'no-such-event']),
    ])
    def test_400_names_the_parameter(self, api, query, words):
        response = api.get('/v2/events?' + query, headers=ADMIN, status=400)
        fault = response.json['error_message']
        assert fault['faultcode'] == 'Client'
        assert fault['debuginfo'] is None
        for word in words:
            assert word in fault['faultstring']

    def test_malformed_json_body(self, api):
        response = api.request(
            '/v2/events', method='GET', headers=ADMIN,
            content_type='application/json', body=b'{"q": [', status=400)
        assert 'JSON' in response.json['error_message']['faultstring']

    def test_json_body_with_unknown_member(self, api):
        response = json_query(api, {'query': []}, status=400)
        assert 'query' in response.json['error_message']['faultstring']

    def test_xml_error_when_only_xml_is_accepted(self, api):
        response = api.get('/v2/events?limit=0',
                           headers=dict(ADMIN, Accept='application/xml'),
                           status=400)
        assert response.content_type == 'application/xml'
        assert b'<error_message><faultstring>' in response.body
        assert b'<faultcode>Client</faultcode>' in response.body


class TestPages:

    def walk(self, api, query, limit):
        """Every page of a listing, following the markers."""
        pages = []
        marker = None
        while True:
            page_query = query + '&limit=%d' % limit
            if marker:
                page_query += '&marker=' + marker
            page = ids(listing(api, page_query))
            if not page:
                return pages
            pages.append(page)
            marker = page[-1]

    def test_ascending_pages(self, api, events):
        pages = self.walk(api, 'sort=generated:asc', 3)
        assert [len(page) for page in pages] == [3, 3, 3, 1]
        assert sum(pages, []) == EVERY_ID

    def test_descending_pages_across_a_tie(self, api, events):
        pages = self.walk(api, 'sort=generated:desc', 4)
        assert sum(pages, []) == EVERY_ID[::-1]
        assert pages[1][:2] == ['msg-05', 'msg-04']

    def test_pages_by_message_id_with_a_filter(self, api, events):
        pages = self.walk(
            api, 'sort=message_id:desc&q.field=project_id&q.value=p1', 2)
        assert sum(pages, []) == visible(
            lambda m, t, project, u, g: project == 'p1')[::-1]

    def test_several_sort_keys(self, api, events):
        query = 'sort=generated:desc&sort=message_id:asc&limit=6'
        assert ids(listing(api, query)) == [
            'msg-09', 'msg-08', 'msg-07', 'msg-06', 'msg-04', 'msg-05']

    def test_one_storage_call_per_page(self, spied_app, storage_url,
                                       events):
        api, spy = spied_app(backends.make_conf(storage_url,
                                                api__auth_mode='noauth'))
        listing(api, 'limit=3&marker=msg-02&q.field=project_id&q.value=p1')
        api.get('/v2/events/msg-00', headers=ADMIN)
        assert spy.calls == ['get_events', 'get_events']

    def test_default_limit(self, api, api_conf, events):
        api_conf.set_override('default_api_return_limit', 4, 'api')
        assert ids(listing(api)) == EVERY_ID[:4]

    def test_limit_above_the_maximum_is_lowered(self, api, api_conf,
                                                events):
        api_conf.set_override('max_api_return_limit', 5, 'api')
        assert ids(listing(api, 'limit=50')) == EVERY_ID[:5]
