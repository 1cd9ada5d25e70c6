"""The API under test: the paste application on each storage backend.

``api`` is a WebTest client of the whole paste pipeline (noauth) built
once per backend; ``events`` fills the store with the events of
``data.LAYOUT`` before a test.
"""

import pytest
import webtest

from panko import storage
from panko.api import app
from panko.tests import backends
from panko.tests.functional.api import data


@pytest.fixture(scope='session')
def api_conf(storage_url):
    return backends.make_conf(storage_url, api__auth_mode='noauth')


@pytest.fixture(scope='session')
def _api(api_conf, _session_connection):
    return webtest.TestApp(app.load_app(api_conf))


@pytest.fixture
def api(_api, api_conf):
    """The paste application; options set on api_conf last one test."""
    yield _api
    api_conf.clear_override('max_api_return_limit', 'api')
    api_conf.clear_override('default_api_return_limit', 'api')


@pytest.fixture
def events(conn):
    """The events of LAYOUT, stored."""
    stored = [data.make_event(*row) for row in data.LAYOUT]
    assert len(conn.record_events(stored).stored) == len(stored)
    return stored


class SpyConnection:
    """The real storage connection, recording the methods called."""

    def __init__(self, connection):
        self._connection = connection
        self.calls = []

    def __getattr__(self, name):
        self.calls.append(name)
        return getattr(self._connection, name)


@pytest.fixture
def spied_app(monkeypatch):
    """Build ``(WebTest app, SpyConnection)`` from a configuration."""
    def build(conf):
        spies = []
        connect = storage.get_connection_from_config

        def spied_connection(conf, **options):
            spies.append(SpyConnection(connect(conf, **options)))
            return spies[-1]
        monkeypatch.setattr(storage, 'get_connection_from_config',
                            spied_connection)
        api = webtest.TestApp(app.load_app(conf))
        [spy] = spies
        return api, spy
    return build
