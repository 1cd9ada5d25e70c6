"""panko-api as operators run it: request ids in its logs, reports."""

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid

import pytest

from harness import processes
from panko import storage
from panko.tests import backends
from panko.tests.functional.api import test_server
from panko.tests.functional.api.data import MEMBER


@pytest.fixture(scope='module')
def api_server(tmp_path_factory):
    """panko-api on SQLite: (base URL, its log file, its stderr file)."""
    directory = tmp_path_factory.mktemp('api')
    url = 'sqlite:///%s' % (directory / 'panko.sqlite')
    storage.get_connection(backends.make_conf(url), url).upgrade()
    log_path = directory / 'panko.log'
    config = processes.write_config(str(directory / 'panko.conf'), {
        'DEFAULT': {'log_file': log_path},
        'api': {'auth_mode': 'noauth'},
        'database': {'connection': url},
    })
    port = test_server.free_port()
    stderr_path = directory / 'stderr.log'
    command = os.path.join(os.path.dirname(sys.executable), 'panko-api')
    with open(stderr_path, 'w') as stderr:
        process = subprocess.Popen(
            [command, '--config-file', config, '--port', str(port)],
            stdout=stderr, stderr=subprocess.STDOUT)
    try:
        test_server.wait_until_serving(process, port, stderr_path)
        yield process, 'http://127.0.0.1:%d' % port, log_path, stderr_path
    finally:
        process.terminate()
        process.wait(timeout=10)


def request(url, headers):
    """(status, X-OpenStack-Request-ID) of a GET."""
    try:
        with urllib.request.urlopen(urllib.request.Request(
                url, headers=headers), timeout=10) as response:
            return response.status, response.headers[
                'X-OpenStack-Request-ID']
    except urllib.error.HTTPError as error:
        return error.code, error.headers['X-OpenStack-Request-ID']


def logged_lines(log_path, text):
    with open(log_path) as log:
        return [line for line in log if text in line]


def test_request_ids_in_the_log_lines_of_a_request(api_server):
    _, base, log_path, _ = api_server
    global_id = 'req-%s' % uuid.uuid4()
    status, request_id = request(
        base + '/v2/events?limit=1',
        dict(MEMBER, **{'X-OpenStack-Request-ID': global_id}))
    assert status == 200
    assert request_id.startswith('req-') and request_id != global_id
    lines = processes.wait_for(
        lambda: logged_lines(log_path, request_id), 10, what='the log line')
    assert len(lines) == 1
    # oslo.log's context format: [global id, request id, user, project...]
    assert '[%s %s u1 p1 ' % (global_id, request_id) in lines[0]
    assert 'GET /v2/events?limit=1: 200 OK' in lines[0]


def test_refused_requests_are_logged_with_their_id(api_server):
    _, base, log_path, _ = api_server
    status, request_id = request(base + '/v2/events',
                                 {'X-User-Id': 'u1'})
    assert status == 403
    lines = processes.wait_for(
        lambda: logged_lines(log_path, request_id), 10, what='the log line')
    assert 'GET /v2/events: 403 Forbidden' in lines[0]


def test_guru_meditation_report_on_sigusr2(api_server):
    process, _, _, stderr_path = api_server

    def report():
        with open(stderr_path) as stderr:
            return stderr.read()
    process.send_signal(signal.SIGUSR2)
    text = processes.wait_for(lambda: 'Panko configuration' in report()
                              and report(), 10, what='the report')
    assert 'Guru Meditation' in text
    assert 'auth_mode = noauth' in text
    assert process.poll() is None
