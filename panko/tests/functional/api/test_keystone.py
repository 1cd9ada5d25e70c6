"""auth_mode = keystone: keystonemiddleware stands before the controllers.

No Keystone runs here: authtoken points at a closed local port, so no
token can be validated. What matters is that nothing reaches the
controllers, or the store, without a valid token.
"""

import socket

import pytest

from panko import service
from panko.tests.functional.api.data import ADMIN


def closed_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture
def keystone_api(storage_url, events, tmp_path, spied_app):
    identity = 'http://127.0.0.1:%d/identity' % closed_port()
    config_file = tmp_path / 'panko.conf'
    config_file.write_text(
        '[api]\nauth_mode = keystone\n'
        '[database]\nconnection = %s\n'
        '[keystone_authtoken]\n'
        'www_authenticate_uri = %s\n'
        'auth_type = password\nauth_url = %s\n'
        'username = panko\npassword = secret\nproject_name = service\n'
        'user_domain_id = default\nproject_domain_id = default\n'
        'http_request_max_retries = 0\nhttp_connect_timeout = 2\n'
        % (storage_url, identity, identity))
    return spied_app(
        service.prepare_service([], config_files=[str(config_file)]))


@pytest.mark.parametrize('path', ['/v2/events', '/v2/events/msg-00',
                                  '/v2/event_types', '/v2/capabilities'])
def test_no_token_is_401(keystone_api, path):
    api, spy = keystone_api
    # Identity headers without a token are not believed.
    response = api.get(path, headers=ADMIN, status=401)
    assert 'Keystone uri' in response.headers['WWW-Authenticate']
    assert set(response.json) == {'error_message'}
    assert response.json['error_message']['faultcode'] == 'Client'
    assert b'msg-00' not in response.body
    assert spy.calls == []


def test_invalid_token_never_reaches_the_controllers(keystone_api):
    api, spy = keystone_api
    response = api.get('/v2/events', headers={'X-Auth-Token': 'forged'},
                       expect_errors=True)
    # keystonemiddleware cannot ask Keystone, so it cannot vouch for it.
    assert response.status_int == 503
    assert set(response.json) == {'error_message'}
    assert b'msg-00' not in response.body
    assert spy.calls == []


def test_discovery_and_healthcheck_need_no_token(keystone_api):
    api, spy = keystone_api
    [listed] = api.get('/').json['versions']['values']
    assert listed['id'] == 'v2'
    # The versioned endpoint of the catalog, read before there is a token.
    assert api.get('/v2').json == {'version': listed}
    assert api.get('/v2/').json == {'version': listed}
    assert api.get('/healthcheck').status_int == 200
    assert spy.calls == []


def test_posting_events_needs_a_token(keystone_api):
    """What Ceilometer's http:// publisher meets: it sends no token."""
    api, spy = keystone_api
    response = api.post('/v2/events', b'[]', status=401,
                         headers=dict(ADMIN, **{
                             'Content-Type': 'application/json'}))
    assert response.json['error_message']['faultcode'] == 'Client'
    assert spy.calls == []
