"""The quickstart's pipeline: callers without identity act as its admin.

The default pipelines never do that: in noauth mode, reading events
without X-User-Id and X-Project-Id stays a 403.
"""

import pytest
import webtest

from panko import storage
from panko.api import app
from panko.tests import backends
from panko.tests.functional.api import data


@pytest.fixture(scope='module')
def sqlite_url(tmp_path_factory):
    url = 'sqlite:///%s' % (tmp_path_factory.mktemp('db') / 'panko.sqlite')
    connection = storage.get_connection(backends.make_conf(url), url)
    connection.upgrade()
    stored = [data.make_event(*row) for row in data.LAYOUT]
    connection.record_events(stored)
    return url


def api_for(url, paste_config):
    return webtest.TestApp(app.load_app(backends.make_conf(
        url, api__auth_mode='noauth', api__paste_config=paste_config)))


def test_quickstart_takes_callers_without_identity_as_its_admin(
        sqlite_url):
    api = api_for(sqlite_url, 'api_paste_quickstart.ini')
    listing = api.get('/v2/events?q.field=all_tenants&q.value=True').json
    assert len(listing) == len(data.LAYOUT)
    # Without all_tenants, the admin of project "quickstart" sees only
    # the events that belong to no project.
    own = api.get('/v2/events').json
    assert {e['message_id'] for e in own} == {'msg-06', 'msg-08'}
    assert api.get('/', status=200).json
    assert api.get('/v2', status=200).json['version']['id'] == 'v2'
    assert api.get('/healthcheck', status=200)


def test_quickstart_leaves_callers_with_an_identity_alone(sqlite_url):
    api = api_for(sqlite_url, 'api_paste_quickstart.ini')
    listing = api.get('/v2/events', headers=data.MEMBER).json
    assert {e['message_id'] for e in listing} == {
        m for m, _, project, user, _ in data.LAYOUT
        if (project, user) == ('p1', 'u1')}
    error = api.get('/v2/events', headers={'X-User-Id': 'u1'},
                    status=403).json
    assert 'X-Project-Id' in error['error_message']['faultstring']


def test_default_noauth_pipeline_needs_an_identity(sqlite_url):
    api = api_for(sqlite_url, 'api_paste.ini')
    error = api.get('/v2/events', status=403).json
    assert 'X-User-Id and X-Project-Id' in (
        error['error_message']['faultstring'])


def test_quickstart_has_the_limits_of_the_default_pipelines(sqlite_url):
    api = api_for(sqlite_url, 'api_paste_quickstart.ini')
    error = api.post('/v2/events', b'[' + b' ' * 9 * 2 ** 20 + b']',
                     content_type='application/json', status=413).json
    assert 'max_request_body_size' in error['error_message']['faultstring']
    query = '&'.join('q.field=f%d&q.value=v' % i for i in range(21))
    error = api.get('/v2/events?' + query, status=400).json
    assert 'max_filters' in error['error_message']['faultstring']
    error = api.get('/v2/events/%FF', status=400).json
    assert 'UTF-8' in error['error_message']['faultstring']
