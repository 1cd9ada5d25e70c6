"""The API served by uWSGI with the shipped etc/panko/panko-uwsgi.ini."""

import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import time
from urllib import request

import pytest

from panko import storage
from panko.storage import models
from panko.tests import backends

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))))
UWSGI_INI = os.path.join(REPO, 'etc', 'panko', 'panko-uwsgi.ini')
UWSGI = os.path.join(os.path.dirname(sys.executable), 'uwsgi')
IDENTITY = {'X-User-Id': 'u1', 'X-Project-Id': 'p1', 'X-Roles': 'member'}

pytestmark = pytest.mark.slow


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def ini_on_port(directory, port):
    """The shipped configuration, listening on ``port`` instead of 8977."""
    with open(UWSGI_INI) as f:
        lines = f.read().splitlines()
    assert 'http-socket = :8977' in lines
    path = os.path.join(directory, 'panko-uwsgi.ini')
    with open(path, 'w') as f:
        f.write('\n'.join('http-socket = 127.0.0.1:%d' % port
                          if line == 'http-socket = :8977' else line
                          for line in lines) + '\n')
    return path


def get(url, headers=None):
    with request.urlopen(request.Request(url, headers=headers or {}),
                         timeout=10) as response:
        return response.status, json.loads(response.read())


def wait_for_workers(log_path, deadline=30):
    """Wait until every worker of the shipped configuration has the app."""
    with open(UWSGI_INI) as f:
        (workers,) = [int(line.split('=')[1]) for line in f
                      if line.startswith('processes =')]
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        with open(log_path) as f:
            if f.read().count('WSGI app 0 (mountpoint=\'\') ready') == workers:
                return
        time.sleep(0.2)
    pytest.fail('not every uwsgi worker loaded the API within %ss' % deadline)


def wait_until_serving(url, process, deadline=30):
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        if process.poll() is not None:
            pytest.fail('uwsgi exited with %s' % process.returncode)
        try:
            return get(url)
        except OSError:
            time.sleep(0.2)
    pytest.fail('uwsgi did not serve %s within %ss' % (url, deadline))


@pytest.fixture
def store_url(tmp_path):
    url = 'sqlite:///%s' % os.path.join(str(tmp_path), 'panko.db')
    connection = storage.get_connection(backends.make_conf(url), url)
    connection.upgrade()
    connection.record_events([models.Event(
        message_id='uwsgi-%d' % n, event_type='compute.instance.create.end',
        generated=datetime.datetime(2026, 5, 1, 12, n),
        traits=[models.Trait('project_id', models.Trait.TEXT_TYPE, 'p1'),
                models.Trait('user_id', models.Trait.TEXT_TYPE, 'u1')],
        raw={}) for n in range(3)])
    return url


@pytest.fixture
def uwsgi_server(tmp_path, store_url):
    if not os.path.exists(UWSGI):
        backends.unreachable('uwsgi', 'no %s' % UWSGI)
    port = free_port()
    env = dict(os.environ,
               HOME=str(tmp_path),
               OS_DATABASE__CONNECTION=store_url,
               OS_API__AUTH_MODE='noauth')
    log_path = os.path.join(str(tmp_path), 'uwsgi.log')
    with open(log_path, 'w') as log_file:
        process = subprocess.Popen(
            [UWSGI, '--ini', ini_on_port(str(tmp_path), port)],
            cwd=str(tmp_path), env=env, stdout=log_file,
            stderr=subprocess.STDOUT)
    base = 'http://127.0.0.1:%d' % port
    try:
        wait_until_serving(base + '/', process)
        yield base, process, log_path
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_api_under_uwsgi(uwsgi_server):
    base, process, log_path = uwsgi_server
    status, versions = get(base + '/')
    assert status == 200
    assert [v['id'] for v in versions['versions']['values']] == ['v2']

    status, events = get(base + '/v2/events', IDENTITY)
    assert status == 200
    assert [e['message_id'] for e in events] == ['uwsgi-0', 'uwsgi-1',
                                                 'uwsgi-2']
    status, event = get(base + '/v2/events/uwsgi-1', IDENTITY)
    assert event['event_type'] == 'compute.instance.create.end'

    # die-on-term: SIGTERM, as init systems send it, stops every process.
    wait_for_workers(log_path)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0


def test_uwsgi_refuses_to_start_on_a_broken_configuration(tmp_path):
    """The shipped ini builds the API as each worker starts, not later."""
    if not os.path.exists(UWSGI):
        backends.unreachable('uwsgi', 'no %s' % UWSGI)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('OS_DATABASE__')}
    env['HOME'] = str(tmp_path)
    finished = subprocess.run(
        [UWSGI, '--ini', ini_on_port(str(tmp_path), free_port())],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=60)
    assert finished.returncode != 0
    assert '[database] connection is not set' in finished.stderr
