"""The benchmark's HTTP throughput: wrk when installed, else Python."""

import shutil
import threading
from urllib import parse
from wsgiref import simple_server

import pytest

from bench import databases
from bench import http_query
from bench import queries

WRK_REPORT = """\
Running 10s test @ http://127.0.0.1:18990/v2/events?q.field=all_tenants
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    89.70ms   27.91ms 221.69ms   77.23%
    Req/Sec    88.16     23.67   131.00     64.00%
  Latency Distribution
     50%  850.00us
     75%  303.36ms
     90%  364.52ms
     99%    1.20s
  1766 requests in 10.02s, 474.47MB read
  Socket errors: connect 0, read 1766, write 0, timeout 2
{extra}\
Requests/sec:    176.25
Transfer/sec:     47.36MB
"""

Q1 = queries.Query('Q1', 'default page', queries.Identity('u', 'p', True),
                   filters=[('all_tenants', 'eq', 'True', None)])


def test_wrk_report_is_read():
    result = http_query.parse_wrk_output(WRK_REPORT.format(extra=''))
    assert result == {
        'requests_per_second': 176.2, 'requests': 1766, 'non_2xx_3xx': 0,
        'socket_errors': {'connect': 0, 'read': 1766, 'write': 0,
                          'timeout': 2},
        'latency': {'p50_ms': 0.8, 'p99_ms': 1200.0}}


def test_wrk_error_answers_are_counted():
    report = WRK_REPORT.format(
        extra='  Non-2xx or 3xx responses: 17\n')
    assert http_query.parse_wrk_output(report)['non_2xx_3xx'] == 17


def test_wrk_sends_what_the_python_client_sends():
    command = http_query.wrk_command('/usr/bin/wrk',
                                     'http://127.0.0.1:8977/prefix/', Q1)
    assert command[:8] == ['/usr/bin/wrk', '--threads', '1',
                           '--connections', '8', '--duration', '10s',
                           '--latency']
    assert command[8:-1] == ['--header', 'X-User-Id: u',
                             '--header', 'X-Project-Id: p',
                             '--header', 'X-Roles: admin']
    url = parse.urlsplit(command[-1])
    assert url.path == '/prefix/v2/events'
    assert parse.parse_qsl(url.query) == [
        ('q.field', 'all_tenants'), ('q.op', 'eq'), ('q.value', 'True')]
    assert command[-1] == ('http://127.0.0.1:8977'
                           + http_query.request_path('/prefix', Q1))


@pytest.fixture
def server(monkeypatch):
    """A WSGI server answering 200 to the identity of Q1, else 403."""
    monkeypatch.setattr(queries, 'SECONDS', 1)
    seen = []

    def application(environ, start_response):
        seen.append((environ['PATH_INFO'], environ['QUERY_STRING'],
                     environ.get('HTTP_X_ROLES')))
        status = ('200 OK' if environ.get('HTTP_X_USER_ID') == 'u'
                  else '403 Forbidden')
        start_response(status, [('Content-Type', 'application/json'),
                                ('Content-Length', '2')])
        return [b'[]']

    class Quiet(simple_server.WSGIRequestHandler):
        def log_message(self, *args):
            pass

    httpd = simple_server.make_server('127.0.0.1', 0, application,
                                      handler_class=Quiet)
    thread = threading.Thread(target=httpd.serve_forever)
    thread.start()
    try:
        yield 'http://127.0.0.1:%d' % httpd.server_port, seen
    finally:
        httpd.shutdown()
        thread.join()
        httpd.server_close()


@pytest.mark.skipif(shutil.which('wrk') is None, reason='wrk not installed')
def test_wrk_is_used_when_installed(server):
    url, seen = server
    result = http_query.q1_throughput(url, Q1)
    assert result['client'] == 'wrk'
    assert result['clients'] == 8 and result['seconds'] == 1
    assert result['requests'] > 0 and result['requests_per_second'] > 0
    assert ('/v2/events', 'q.field=all_tenants&q.op=eq&q.value=True',
            'admin') in seen


@pytest.mark.skipif(shutil.which('wrk') is None, reason='wrk not installed')
def test_wrk_fails_on_error_answers(server):
    url, _ = server
    stranger = queries.Query('Q1', '', queries.Identity('x', 'p', False))
    with pytest.raises(RuntimeError, match='answers were errors'):
        http_query.q1_throughput(url, stranger)


def test_python_clients_without_wrk(server, monkeypatch):
    url, seen = server
    monkeypatch.setattr(shutil, 'which', lambda name: None)
    result = http_query.q1_throughput(url, Q1)
    assert result['client'] == 'python threads'
    assert result['requests_per_second'] > 0
    assert seen


def test_load_creates_the_database_its_url_names():
    assert databases.name_of(
        'postgresql+psycopg://root@127.0.0.1:5432/panko_mine') == 'panko_mine'
    assert databases.name_of(databases.url_of('sqlite', 'mine')) == 'mine'
    with pytest.raises(ValueError):
        databases.name_of('sqlite:////var/lib/panko/panko.sqlite')
