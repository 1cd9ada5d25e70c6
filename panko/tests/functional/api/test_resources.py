"""Version discovery, event types, traits, capabilities and the pipeline."""

import contextlib
import logging
import os
import socket
import threading

from oslo_config import cfg
from oslo_log import versionutils
from oslo_middleware import cors
import pytest
import sqlalchemy as sa
import webtest

from panko import service
from panko import storage
from panko.api import app
from panko.tests import backends
from panko.tests import contract
from panko.tests.functional.api.data import ADMIN
from panko.tests.functional.api.data import MEMBER

PASTE_INI = os.path.join(contract.REPO, 'etc', 'panko', 'api_paste.ini')

TYPE = 'compute.instance.update'


def get_behind_proxy(api, api_conf, path):
    """GET ``path`` as a proxy at https://telemetry.example.com/event."""
    api_conf.set_override('enable_proxy_headers_parsing', True,
                          'oslo_middleware')
    try:
        return api.get(path, headers={
            'X-Forwarded-Proto': 'https',
            'X-Forwarded-Host': 'telemetry.example.com',
            'X-Forwarded-Prefix': '/event'})
    finally:
        api_conf.clear_override('enable_proxy_headers_parsing',
                                'oslo_middleware')


class TestVersions:

    def test_version_document(self, api):
        version = api.get('/').json['versions']['values'][0]
        assert version['id'] == 'v2'
        assert version['status'] == 'stable'
        assert version['updated'] == '2013-02-13T00:00:00Z'
        assert {'rel': 'self', 'href': 'http://localhost/v2'} in (
            version['links'])
        assert {'base': 'application/json',
                'type': 'application/vnd.openstack.telemetry-v2+json'} in (
            version['media-types'])

    def test_base_url_from_forwarded_headers(self, api, api_conf):
        response = get_behind_proxy(api, api_conf, '/')
        links = response.json['versions']['values'][0]['links']
        assert links[0]['href'] == 'https://telemetry.example.com/event/v2'

    def test_no_identity_needed(self, api):
        assert api.get('/').status_int == 200

    @pytest.mark.parametrize('path', ['/v2', '/v2/'])
    def test_v2_answers_its_own_version_document(self, api, path):
        """Without identity headers, as clients discover versions."""
        listed = api.get('/').json['versions']['values'][0]
        response = api.get(path)
        assert response.content_type == 'application/json'
        assert response.json == {'version': listed}
        assert api.head(path).body == b''

    def test_v2_document_behind_a_proxy(self, api, api_conf):
        response = get_behind_proxy(api, api_conf, '/v2')
        assert response.json['version']['links'][0] == {
            'rel': 'self', 'href': 'https://telemetry.example.com/event/v2'}

    @pytest.mark.parametrize('path', ['/v2', '/v2/'])
    @pytest.mark.parametrize('method', ['PUT', 'POST', 'DELETE', 'FOO'])
    def test_v2_document_is_get_only(self, api, path, method):
        response = api.request(path, method=method, body=b'[]',
                               headers=ADMIN, expect_errors=True)
        assert response.status_int == 405
        assert response.headers['Allow'] == 'GET, HEAD'
        assert set(response.json) == {'error_message'}


class TestEventTypes:

    @pytest.mark.parametrize('path', ['/v2/event_types',
                                      '/v2/event_types/'])
    def test_sorted_names(self, api, events, path):
        assert api.get(path, headers=ADMIN).json == [
            'compute.instance.delete.end', 'compute.instance.update',
            'identity.authenticate']

    @pytest.mark.parametrize('suffix', ['', '/'])
    def test_trait_descriptions(self, api, events, suffix):
        response = api.get('/v2/event_types/%s/traits%s' % (TYPE, suffix),
                           headers=ADMIN)
        assert response.json == [
            {'name': 'instance_id', 'type': 'string'},
            {'name': 'launched_at', 'type': 'datetime'},
            {'name': 'load', 'type': 'float'},
            {'name': 'memory_mb', 'type': 'integer'},
            {'name': 'project_id', 'type': 'string'},
            {'name': 'user_id', 'type': 'string'},
        ]

    def test_trait_values(self, api, events):
        response = api.get('/v2/event_types/%s/traits/memory_mb' % TYPE,
                           headers=ADMIN)
        assert sorted(response.json, key=lambda t: int(t['value'])) == [
            {'name': 'memory_mb', 'type': 'integer', 'value': str(512 * n)}
            for n in (0, 2, 3, 4, 7, 9)]

    def test_datetime_trait_values_are_iso_8601(self, api, events):
        response = api.get(
            '/v2/event_types/identity.authenticate/traits/launched_at',
            headers=ADMIN)
        assert sorted(trait['value'] for trait in response.json) == [
            '2026-03-01T18:00:00.000005', '2026-03-01T20:00:00.000005']

    def test_unknown_type_has_no_traits(self, api, events):
        assert api.get('/v2/event_types/no.such/traits',
                       headers=ADMIN).json == []
        assert api.get('/v2/event_types/no.such/traits/x',
                       headers=ADMIN).json == []

    def test_event_type_itself_is_404(self, api, events):
        response = api.get('/v2/event_types/' + TYPE, headers=ADMIN,
                           status=404)
        assert TYPE in response.json['error_message']['faultstring']


class TestCapabilities:

    @pytest.mark.parametrize('path', ['/v2/capabilities',
                                      '/v2/capabilities/'])
    def test_capabilities(self, api, path):
        assert api.get(path, headers=MEMBER).json == {
            'api': {'events:query:simple': True},
            'event_storage': {'storage:production_ready': True}}


class TestPipeline:

    def test_healthcheck(self, api):
        assert api.get('/healthcheck').status_int == 200

    def test_request_id(self, api, events):
        response = api.get('/v2/events', headers=MEMBER)
        assert response.headers['X-OpenStack-Request-Id'].startswith('req-')

    def test_unknown_path_is_a_json_404(self, api):
        response = api.get('/v2/nothing', headers=ADMIN, status=404)
        assert response.json == {'error_message': {
            'faultstring': 'Not Found', 'faultcode': 'Client',
            'debuginfo': None}}

    def test_cors(self, storage_url, _session_connection):
        conf = backends.make_conf(storage_url, api__auth_mode='noauth')
        conf.register_opts(cors.CORS_OPTS, 'cors')
        conf.set_override('allowed_origin', ['https://dash.example.com'],
                          'cors')
        cors_app = webtest.TestApp(app.load_app(conf))
        response = cors_app.options('/v2/events', headers={
            'Origin': 'https://dash.example.com',
            'Access-Control-Request-Method': 'GET'})
        assert response.headers['Access-Control-Allow-Origin'] == (
            'https://dash.example.com')


class Forwarder:
    """A TCP relay to a database server, that can be cut like a network."""

    def __init__(self, host, port):
        self.upstream = (host, port)
        self.listener = socket.create_server(('127.0.0.1', 0))
        self.port = self.listener.getsockname()[1]
        self.sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                server = socket.create_connection(self.upstream)
                self.sockets += [client, server]
                for source, target in ((client, server), (server, client)):
                    threading.Thread(target=self._pump,
                                     args=(source, target),
                                     daemon=True).start()

    @staticmethod
    def _pump(source, target):
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_RDWR)

    def cut(self):
        for sock in [self.listener] + self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@contextlib.contextmanager
def relayed_api(engine_name, directory):
    """The API on a database server through a relay, and the relay."""
    with backends.temporary_database(engine_name, directory) as url:
        real = sa.engine.make_url(url)
        relay = Forwarder(real.host, real.port)
        relayed = real.set(host='127.0.0.1', port=relay.port)
        relayed = relayed.render_as_string(hide_password=False)
        conf = backends.make_conf(relayed, api__auth_mode='noauth')
        storage.get_connection(conf, relayed).upgrade()
        yield webtest.TestApp(app.load_app(conf)), relay
        relay.cut()


class TestStorageOutage:

    @pytest.fixture(name='relayed_api', params=['postgresql', 'mysql'])
    def relayed_api_fixture(self, request, tmp_path):
        with relayed_api(request.param, str(tmp_path)) as api_and_relay:
            yield api_and_relay

    @pytest.mark.parametrize('path', ['/v2/events', '/v2/events/msg-00',
                                      '/v2/event_types'])
    def test_503_not_a_traceback(self, relayed_api, path):
        api, relay = relayed_api
        api.get('/v2/event_types', headers=ADMIN, status=200)
        relay.cut()
        response = api.get(path, headers=ADMIN, status=503)
        assert response.json == {'error_message': {
            'faultstring': 'The event store is unavailable; retry later.',
            'faultcode': 'Server', 'debuginfo': None}}


class TestPasteConfig:

    def test_found_next_to_the_config_file(self, tmp_path, storage_url,
                                           _session_connection):
        source = app.find_paste_config(backends.make_conf())
        (tmp_path / 'custom_paste.ini').write_text(open(source).read())
        config_file = tmp_path / 'panko.conf'
        config_file.write_text('[api]\npaste_config = custom_paste.ini\n'
                               'auth_mode = noauth\n')
        conf = service.prepare_service([], config_files=[str(config_file)])
        conf.set_override('connection', storage_url, 'database')
        assert app.find_paste_config(conf) == str(
            tmp_path / 'custom_paste.ini')
        api = webtest.TestApp(app.load_app(conf))
        assert api.get('/v2/capabilities', headers=ADMIN).status_int == 200

    def test_panko10_option_is_read_with_a_warning(self, tmp_path, caplog,
                                                   monkeypatch):
        """A Panko 10 panko.conf names the file [DEFAULT] api_paste_config."""
        # oslo.log reports each deprecation once per process.
        monkeypatch.setattr(versionutils, '_deprecated_messages_sent', {})
        (tmp_path / 'old_paste.ini').write_text(open(PASTE_INI).read())
        config_file = tmp_path / 'panko.conf'
        config_file.write_text(
            '[DEFAULT]\napi_paste_config = old_paste.ini\n'
            '[api]\nauth_mode = noauth\ndefault_api_return_limit = 7\n'
            '[database]\nevent_time_to_live = 86400\n'
            '[storage]\nmax_retries = 3\nretry_interval = 2\n')
        # Not prepare_service() (nor make_conf()): its logging set-up
        # would drop caplog's handler.
        conf = cfg.ConfigOpts()
        service.register_options(conf)
        conf(['--config-file', str(config_file)], project='panko')
        url = 'sqlite:///%s' % (tmp_path / 'panko.db')
        conf.set_override('connection', url, 'database')
        storage.get_connection(conf, url).upgrade()
        with caplog.at_level(logging.WARNING, 'oslo_config'):
            assert app.find_paste_config(conf) == str(
                tmp_path / 'old_paste.ini')
        assert ('Deprecated: Option "api_paste_config" from group "DEFAULT" '
                'is deprecated. Use option "paste_config" from group "api".'
                ) in caplog.messages
        assert (conf.api.default_api_return_limit,
                conf.database.event_time_to_live, conf.storage.max_retries,
                conf.storage.retry_interval) == (7, 86400, 3, 2)
        api = webtest.TestApp(app.load_app(conf))
        assert api.get('/v2/capabilities', headers=ADMIN).status_int == 200

    def test_missing_file_is_named(self):
        conf = backends.make_conf(api__paste_config='/nowhere/paste.ini')
        with pytest.raises(cfg.ConfigFilesNotFoundError) as error:
            app.load_app(conf)
        assert '/nowhere/paste.ini' in str(error.value)
