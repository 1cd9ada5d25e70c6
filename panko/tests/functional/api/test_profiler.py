"""osprofiler tracing: the API's requests and their SQL, when enabled.

The traces are collected in the test by osprofiler's notifier hook, in
place of the configured backend.
"""

from osprofiler import notifier
from osprofiler import profiler as osprofiler
from osprofiler import web
import pytest
import webtest

from panko import profiler
from panko import storage
from panko.api import app
from panko.tests import backends
from panko.tests.functional.api.data import ADMIN

KEY = 'trace-secret'


@pytest.fixture(scope='module')
def sqlite_url(tmp_path_factory):
    url = 'sqlite:///%s' % (tmp_path_factory.mktemp('db') / 'panko.sqlite')
    storage.get_connection(backends.make_conf(url), url).upgrade()
    return url


@pytest.fixture
def traces():
    """The trace points the API sends while the test runs."""
    original = notifier.get()
    points = []
    yield points
    notifier.set(original)
    notifier.clear_notifier_cache()


def api_for(url, traces, **profiler_options):
    overrides = {'profiler__%s' % name: value
                 for name, value in profiler_options.items()}
    api = webtest.TestApp(app.load_app(backends.make_conf(
        url, api__auth_mode='noauth', **overrides)))
    notifier.set(lambda info, context=None: traces.append(info))
    return api


def traced_headers(key):
    """The headers of ``openstack --os-profile KEY``."""
    osprofiler.init(key)
    try:
        return dict(web.get_trace_id_headers(), **ADMIN)
    finally:
        osprofiler.clean()


def names(points):
    return {point['name'] for point in points}


def test_signed_requests_and_their_sql_are_traced(sqlite_url, traces):
    api = api_for(sqlite_url, traces, enabled=True, hmac_keys=KEY,
                  trace_sqlalchemy=True)
    api.get('/v2/events', headers=traced_headers(KEY))
    assert {'wsgi-start', 'wsgi-stop', 'db-start', 'db-stop'} <= names(
        traces)
    wsgi = [p for p in traces if p['name'] == 'wsgi-start'][0]
    assert wsgi['info']['request']['path'] == '/v2/events'


def test_unsigned_requests_are_not_traced(sqlite_url, traces):
    api = api_for(sqlite_url, traces, enabled=True, hmac_keys=KEY,
                  trace_sqlalchemy=True)
    api.get('/v2/events', headers=ADMIN)
    api.get('/v2/events', headers=traced_headers('another-key'))
    assert traces == []


def test_nothing_is_traced_unless_enabled(sqlite_url, traces):
    api = api_for(sqlite_url, traces, hmac_keys=KEY, trace_sqlalchemy=True)
    api.get('/v2/events', headers=traced_headers(KEY))
    assert traces == []


def test_without_osprofiler_nothing_changes(sqlite_url, monkeypatch):
    monkeypatch.setattr(profiler, 'opts', None)
    conf = backends.make_conf(sqlite_url)
    assert 'profiler' not in conf
    application = object()
    assert profiler.wsgi_middleware(application, conf) is application
    # The SQL driver and the whole API still work.
    api = webtest.TestApp(app.load_app(backends.make_conf(
        sqlite_url, api__auth_mode='noauth')))
    assert api.get('/v2/events', headers=ADMIN).json == []
