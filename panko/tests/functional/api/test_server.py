"""The API served by ``panko-api`` over real HTTP, used by pankoclient.

pankoclient 1.2.0 (the python-pankoclient project) talks to the server
through a keystoneauth session whose additional headers carry the noauth
identity, as a deployment without Keystone would use it.
"""

import http.client
import os
import socket
import subprocess
import sys
import time

from keystoneauth1 import session as ks_session
from pankoclient import client as panko_client
from pankoclient import exceptions as panko_exc
import pytest

from panko import storage
from panko.tests import backends
from panko.tests.functional.api.data import ADMIN
from panko.tests.functional.api.data import LAYOUT
from panko.tests.functional.api.data import MEMBER
from panko.tests.functional.api.data import make_event
from panko.tests.functional.api.data import visible

TYPE = 'compute.instance.update'


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_until_serving(process, port, log_path):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    with open(log_path) as log:
        pytest.fail('panko-api did not start:\n' + log.read())


@pytest.fixture(scope='module')
def server(storage_url, _session_connection, tmp_path_factory):
    """``panko-api`` on a free port; yields its base URL."""
    if storage_url.startswith('mongodb://'):
        backends.requires_mongodb_server(
            'mongomock lives in the test process, not in panko-api')
    directory = tmp_path_factory.mktemp('server')
    config_file = directory / 'panko.conf'
    config_file.write_text('[api]\nauth_mode = noauth\n'
                           '[database]\nconnection = %s\n' % storage_url)
    port = free_port()
    log_path = directory / 'panko-api.log'
    command = os.path.join(os.path.dirname(sys.executable), 'panko-api')
    with open(log_path, 'w') as log:
        process = subprocess.Popen(
            [command, '--config-file', str(config_file),
             '--port', str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_serving(process, port, log_path)
        yield 'http://127.0.0.1:%d' % port
    finally:
        process.terminate()
        process.wait(timeout=10)


def client_for(base_url, identity):
    session = ks_session.Session(additional_headers=identity)
    return panko_client.Client('2', session=session,
                               endpoint_override=base_url)


@pytest.fixture
def admin(server, events):
    return client_for(server, ADMIN)


def message_ids(events):
    return [event.message_id for event in events]


class TestPankoClient:

    def test_list(self, admin):
        assert message_ids(admin.event.list()) == visible(
            lambda m, t, project, u, g: project in ('p1', None))

    def test_list_as_a_member(self, server, events):
        member = client_for(server, MEMBER)
        assert message_ids(member.event.list()) == visible(
            lambda m, t, project, user, g: (project, user) == ('p1', 'u1'))

    def test_filters(self, admin):
        found = admin.event.list(
            filters={'project_id': 'p1', 'event_type': TYPE})
        assert message_ids(found) == visible(
            lambda m, event_type, project, u, g:
            (event_type, project) == (TYPE, 'p1'))

    def test_bad_filter_is_explained(self, admin):
        # pankoclient sends every filter with op eq; start_timestamp
        # takes only ge, as in Panko.
        with pytest.raises(panko_exc.BadRequest) as error:
            admin.event.list(
                filters={'start_timestamp': '2026-03-01T12:05:00'})
        assert 'start_timestamp' in str(error.value)
        assert 'use ge' in str(error.value)

    def test_pages(self, admin):
        seen = []
        marker = None
        while True:
            page = message_ids(admin.event.list(
                limit=3, marker=marker, sorts=['generated:desc']))
            if not page:
                break
            assert len(page) <= 3
            seen += page
            marker = page[-1]
        assert seen == visible(
            lambda m, t, project, u, g: project in ('p1', None))[::-1]

    def test_get_one(self, admin):
        event = admin.event.get('msg-04')
        assert event.message_id == 'msg-04'
        assert event.event_type == TYPE
        assert event.generated == '2026-03-01T12:04:00.123456'
        assert {'name': 'memory_mb', 'type': 'integer',
                'value': '2048'} in event.traits

    def test_get_unknown(self, admin):
        with pytest.raises(panko_exc.NotFound) as error:
            admin.event.get('msg-03')
        assert 'msg-03' in str(error.value)

    def test_event_types(self, admin):
        assert list(admin.event_type.list()) == [
            'compute.instance.delete.end', TYPE, 'identity.authenticate']

    def test_trait_descriptions(self, admin):
        descriptions = admin.event_trait_description.list(TYPE)
        assert [(d.name, d.type) for d in descriptions] == [
            ('instance_id', 'string'), ('launched_at', 'datetime'),
            ('load', 'float'), ('memory_mb', 'integer'),
            ('project_id', 'string'), ('user_id', 'string')]

    def test_traits(self, admin):
        traits = admin.event_trait.list(TYPE, 'load')
        assert sorted(float(trait.value) for trait in traits) == [
            0.0, 0.5, 0.75, 1.0, 1.75, 2.25]
        assert {trait.type for trait in traits} == {'float'}

    def test_traits_are_admin_only(self, server, events):
        member = client_for(server, MEMBER)
        with pytest.raises(panko_exc.Forbidden):
            member.event_trait.list(TYPE, 'load')

    def test_capabilities(self, admin):
        capabilities = admin.capabilities.list()
        assert capabilities.api == {'events:query:simple': True}
        assert capabilities.event_storage == {
            'storage:production_ready': True}


class TestHTTP:

    def request(self, server, path, headers=None):
        host, port = server[len('http://'):].split(':')
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            connection.request('GET', path, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def test_version_discovery(self, server):
        status, _, body = self.request(server, '/')
        assert status == 200
        assert (b'"href": "%s/v2"' % server.encode()) in body

    def test_bad_input_is_a_400_document(self, server, events):
        status, headers, body = self.request(
            server, '/v2/events?limit=-1', ADMIN)
        assert status == 400
        assert ('Content-Type', 'application/json; charset=UTF-8') in headers
        assert body.startswith(b'{"error_message": {"faultstring": ')

    def test_healthcheck(self, server):
        status, _, _ = self.request(server, '/healthcheck')
        assert status == 200


def test_wsgi_module_imports_without_a_configuration(tmp_path):
    """The install guide finds the module's file by importing it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    finished = subprocess.run(
        [sys.executable, '-c',
         'import panko.wsgi.api as m; print(m.__file__)'],
        cwd=str(tmp_path), env=dict(env, HOME=str(tmp_path)),
        capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip().endswith(
        os.path.join('panko', 'wsgi', 'api.py'))


def test_wsgi_module_exposes_the_application(tmp_path):
    """``panko.wsgi.api:application``, configured as a WSGI server would.

    The configuration comes from oslo.config's environment variables; one
    backend is enough here.
    """
    storage_url = 'sqlite:///%s' % (tmp_path / 'panko.db')
    connection = storage.get_connection(backends.make_conf(storage_url),
                                        storage_url)
    connection.upgrade()
    connection.record_events([make_event(*row) for row in LAYOUT])
    script = ('import webtest\n'
              'from panko.wsgi.api import application\n'
              'app = webtest.TestApp(application)\n'
              'print(app.get("/v2/event_types", headers=%r).body.decode())'
              % ADMIN)
    env = dict(os.environ, OS_DATABASE__CONNECTION=storage_url,
               OS_API__AUTH_MODE='noauth')
    output = subprocess.run([sys.executable, '-c', script], env=env,
                            capture_output=True, text=True, timeout=60,
                            check=True).stdout
    assert output.strip().splitlines()[-1] == (
        '["compute.instance.delete.end", "compute.instance.update", '
        '"identity.authenticate"]')
