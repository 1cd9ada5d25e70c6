"""POST /v2/events: Ceilometer's http:// publisher, through the paste app.

The bodies posted are the captured Ceilometer messages' payloads (the
same serialized events the http:// publisher posts) and the requests
captured from Ceilometer's http:// publisher itself
(``ceilometer_http_posts.json``). Every test runs on each backend.
"""

import copy
import json
import os

from oslo_policy import opts as policy_opts
import pytest
import webtest

from panko import scrub
from panko.api import app
from panko.storage import models
from panko.tests import backends
from panko.tests import contract
from panko.tests.functional.api import test_resources
from panko.tests.functional.api.data import ADMIN
from panko.tests.functional.api.data import MEMBER
from panko.tests.functional.api.data import OTHER_PROJECT
from panko.tests.functional.api.data import OTHER_USER

SERVICE = {'X-User-Id': 'ceilometer', 'X-Project-Id': 'service',
           'X-Roles': 'service'}
JSON = 'application/json'
SIGNED = ('event_sample_signed_batch3', 'event_sample_signed_single',
          'agent_event_compute_instance_create_end_signed')
#: The user and project of the agent's event (its traits).
AGENT_MEMBER = {'X-User-Id': '0f1e2d3c4b5a49788796a5b4c3d2e1f0',
                'X-Project-Id': '7a5a2b5d1b9c4c6e9b1c0e7f5d3a2b10',
                'X-Roles': 'member'}

with open(os.path.join(os.path.dirname(__file__),
                       'ceilometer_http_posts.json')) as _f:
    HTTP_POSTS = json.load(_f)


def post(api, body, headers=SERVICE, status=201):
    """POST a body (encoded as JSON unless it is bytes)."""
    if not isinstance(body, bytes):
        body = json.dumps(body).encode('utf-8')
    return api.post('/v2/events', body, status=status,
                    headers=dict(headers, **{'Content-Type': JSON}))


def read_back(api, message_id, headers=ADMIN, status=200):
    return api.get('/v2/events/%s?all_tenants=True' % message_id,
                   headers=headers, status=status)


def document_of(serialized):
    """The GET document of a serialized event as stored: raw scrubbed."""
    return {'message_id': serialized['message_id'],
            'event_type': serialized['event_type'],
            'generated': serialized['generated'],
            'traits': sorted(
                ({'name': name, 'type': models.Trait.TYPE_NAMES[dtype],
                  'value': str(value)}
                 for name, dtype, value in serialized['traits']),
                key=lambda trait: trait['name']),
            'raw': scrub.scrub(serialized['raw'])}


def counts(response):
    return {key: response.json[key]
            for key in ('stored', 'duplicates', 'rejected')}


@pytest.fixture(params=['', contract.SECRET], ids=['no-secret', 'secret'])
def secret(request, api_conf):
    """The API with and without a [dispatcher] telemetry_secret."""
    api_conf.set_override('telemetry_secret', request.param, 'dispatcher')
    yield request.param
    api_conf.clear_override('telemetry_secret', 'dispatcher')


class TestCeilometerBodies:

    def test_captured_events_stored_and_read_back(self, api, conn, secret):
        for name in SIGNED + ('event_sample_unsigned',):
            batch = contract.fixture_events(name)
            response = post(api, batch)
            assert counts(response) == {'stored': len(batch),
                                        'duplicates': 0, 'rejected': 0}
            assert response.json['rejections'] == []
            for event in batch:
                assert read_back(api, event['message_id']).json == (
                    document_of(event))

    def test_http_publisher_requests_as_captured(self, api, conn, secret):
        """The exact bytes Ceilometer posts, batched and one by one."""
        for mode in ('batch', 'no_batch'):
            conn.clear()
            posted = []
            for request in HTTP_POSTS[mode]['requests']:
                response = api.post(
                    '/v2/events', request['body'].encode('utf-8'),
                    headers=dict(SERVICE,
                                 **{'Content-Type': request['content_type']}),
                    status=201)
                body = json.loads(request['body'])
                posted += body if isinstance(body, list) else [body]
                assert response.json['stored'] == (
                    len(body) if isinstance(body, list) else 1)
            assert len(posted) == 2
            assert posted[0]['raw'] == {}
            for event in posted:
                assert read_back(api, event['message_id']).json == (
                    document_of(event))

    def test_duplicates_are_counted(self, api, conn):
        batch = contract.fixture_events('event_sample_signed_batch3')
        post(api, batch[:1])
        response = post(api, batch)
        assert counts(response) == {'stored': 2, 'duplicates': 1,
                                    'rejected': 0}
        response = post(api, batch)
        assert counts(response) == {'stored': 0, 'duplicates': 3,
                                    'rejected': 0}

    def test_bad_event_rejected_and_the_rest_stored(self, api, conn):
        good = contract.fixture_events('event_sample_signed_batch3')
        bad = dict(good[1], message_id='bad-1',
                   traits=[['launched_at', 4, 'yesterday']])
        response = post(api, [good[0], bad, good[2]])
        assert counts(response) == {'stored': 2, 'duplicates': 0,
                                    'rejected': 1}
        [rejection] = response.json['rejections']
        assert rejection['message_id'] == 'bad-1'
        assert 'launched_at' in rejection['reason']
        read_back(api, good[2]['message_id'])
        read_back(api, 'bad-1', status=404)

    def test_forged_signature_rejected_with_a_secret(self, api, conn,
                                                     secret):
        signed = contract.fixture_events('event_sample_signed_single')
        forged = copy.deepcopy(signed[0])
        forged['message_id'] = 'forged-1'
        response = post(api, signed + [forged])
        if secret:
            assert counts(response) == {'stored': 1, 'duplicates': 0,
                                        'rejected': 1}
            [rejection] = response.json['rejections']
            assert rejection['message_id'] == 'forged-1'
            assert 'message_signature does not match' in (
                rejection['reason'])
            read_back(api, 'forged-1', status=404)
        else:
            assert response.json['stored'] == 2


class TestMalformedBody:

    @pytest.mark.parametrize('body, reason', [
        (b'{"message_id": ', 'not in valid JSON'),
        (b'"events"', 'must be a JSON array of events or one event '
                      'object, got a string'),
        (b'null', 'got null'),
        (b'42', 'got an integer'),
        (b'[{"message_id": "m"}, [1, 2]]',
         'element 1 of the body must be an event object, got an array'),
    ])
    def test_400_names_the_problem(self, api, conn, body, reason):
        response = post(api, body, status=400)
        assert reason in response.json['error_message']['faultstring']
        assert api.get('/v2/events?q.field=all_tenants&q.value=True',
                       headers=ADMIN).json == []


class TestAccess:

    @pytest.mark.parametrize('headers', [MEMBER, OTHER_PROJECT, {}],
                             ids=['member', 'other project', 'anonymous'])
    def test_403_unless_allowed(self, api, conn, headers):
        batch = contract.fixture_events('event_sample_signed_batch3')
        response = post(api, batch, headers=headers, status=403)
        assert response.json['error_message']['faultcode'] == 'Client'
        read_back(api, batch[0]['message_id'], status=404)

    @pytest.mark.parametrize('headers', [SERVICE, ADMIN],
                             ids=['service', 'admin'])
    def test_service_and_admin_allowed(self, api, conn, headers):
        batch = contract.fixture_events('event_sample_signed_single')
        assert post(api, batch, headers=headers).json['stored'] == 1

    def test_posted_events_follow_the_project_rules(self, api, conn):
        [agent] = contract.fixture_events(
            'agent_event_compute_instance_create_end_signed')
        posted = json.loads(HTTP_POSTS['batch']['requests'][0]['body'])
        post(api, [agent] + posted)

        def visible(headers):
            return sorted(event['message_id'] for event in api.get(
                '/v2/events', headers=headers).json)

        assert visible(AGENT_MEMBER) == [agent['message_id']]
        # The captured http:// events belong to user u1 of project p1.
        assert visible(MEMBER) == sorted(e['message_id'] for e in posted)
        assert visible(OTHER_USER) == []
        assert visible(OTHER_PROJECT) == []


def test_rule_from_a_policy_file(storage_url, conn, tmp_path):
    policy_file = tmp_path / 'policy.yaml'
    policy_file.write_text('"telemetry:events:create": "role:collector"\n')
    conf = backends.make_conf(storage_url, api__auth_mode='noauth')
    for group, options in policy_opts.list_opts():
        conf.register_opts(options, group)
    conf.set_override('policy_file', str(policy_file), 'oslo_policy')
    api = webtest.TestApp(app.load_app(conf))
    batch = contract.fixture_events('event_sample_signed_single')
    post(api, batch, headers=SERVICE, status=403)
    collector = dict(MEMBER, **{'X-Roles': 'collector'})
    assert post(api, batch, headers=collector).json['stored'] == 1


@pytest.fixture(name='relayed_api')
def relayed_api_fixture(tmp_path):
    """The API on PostgreSQL through a relay that a test can cut."""
    with test_resources.relayed_api('postgresql',
                                    str(tmp_path)) as api_and_relay:
        yield api_and_relay


def test_503_when_the_store_is_down(relayed_api):
    api, relay = relayed_api
    batch = contract.fixture_events('event_sample_signed_batch3')
    assert post(api, batch[:1]).json['stored'] == 1
    relay.cut()
    response = post(api, batch[1:], status=503)
    assert response.json['error_message']['faultstring'] == (
        'The event store is unavailable; retry later.')
