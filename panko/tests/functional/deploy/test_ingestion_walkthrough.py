"""doc/source/install/ingestion-walkthrough.rst, run as a reader would.

The steps come from the page (see panko.tests.doc_steps) and run as
written, from the top of the source tree with the test's virtualenv on
the PATH, against the real RabbitMQ; only the directory, the API's port,
the topic (so that parallel runs do not compete) and the RabbitMQ URL are
the test's own.
"""

import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from harness import messaging
from harness import processes
from panko.tests import backends
from panko.tests import doc_steps

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))))
PAGE = os.path.join(ROOT, 'doc', 'source', 'install',
                    'ingestion-walkthrough.rst')
SAMPLE = os.path.join(ROOT, 'etc', 'panko', 'samples',
                      'nova_compute_instance_create_end.json')

pytestmark = pytest.mark.slow


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def topic():
    backends.require_broker()
    name = messaging.unique_name('walkthrough')
    yield name
    messaging.delete_topology([], [name])


class Reader:
    """Runs the page's steps as a reader would, in their order."""

    def __init__(self, tmp_path, topic):
        self.port = free_port()
        self.replacements = {
            '/tmp/panko-walkthrough': str(tmp_path / 'walkthrough'),
            '8977': str(self.port),
            'panko_walkthrough': topic,
            'rabbit://guest:guest@127.0.0.1:5672/': messaging.RABBIT_URL}
        self.env = {name: value for name, value in os.environ.items()
                    if not name.startswith('OS_')}
        # The test's virtualenv stands in for the activated .venv.
        self.env['PATH'] = '%s:%s' % (os.path.dirname(sys.executable),
                                      self.env['PATH'])
        self.logs = tmp_path
        self.background = []

    def shell(self, step):
        script = doc_steps.replace(doc_steps.script([step]),
                                   self.replacements)
        finished = subprocess.run(['bash', '-c', script], cwd=ROOT,
                                  env=self.env, capture_output=True,
                                  text=True, timeout=120)
        assert finished.returncode == 0, finished.stdout + finished.stderr
        return finished.stdout

    def start(self, step):
        kind, text = step
        assert kind == 'background'
        for number, line in enumerate(text.splitlines()):
            log_path = self.logs / ('background-%d.log' % number)
            with open(log_path, 'w') as log:
                self.background.append((subprocess.Popen(
                    ['bash', '-c', 'exec ' + doc_steps.replace(
                        line, self.replacements)],
                    cwd=ROOT, env=self.env, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True),
                    log_path))

    def log(self, number):
        with open(self.background[number][1]) as f:
            return f.read()

    def stop(self):
        for process, _ in self.background:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process, _ in self.background:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def serving(port):
    try:
        socket.create_connection(('127.0.0.1', port), 1).close()
        return True
    except OSError:
        return False


def test_walkthrough(tmp_path, topic):
    steps = doc_steps.steps(PAGE)
    assert [kind for kind, _ in steps] == [
        'shell', 'background', 'shell', 'shell', 'shell']
    configure, services, send, as_admin, as_owner = steps
    with open(SAMPLE) as f:
        sample = json.load(f)
    reader = Reader(tmp_path, topic)
    try:
        reader.shell(configure)
        reader.start(services)
        processes.wait_for(lambda: serving(reader.port), 30,
                           what='the API')
        sent = reader.shell(send)
        assert 'Sent compute.instance.create.end' in sent
        assert 'topic %s' % topic in sent

        def found():
            events = json.loads(reader.shell(as_admin))
            return events
        (event,) = processes.wait_for(found, 30, interval=0.5,
                                      what='the event in /v2/events')
        assert event['event_type'] == sample['event_type']
        traits = {t['name']: t['value'] for t in event['traits']}
        assert traits['instance_id'] == sample['payload']['instance_id']
        assert traits['memory_mb'] == str(sample['payload']['memory_mb'])
        assert traits['project_id'] == sample['payload']['tenant_id']

        # The instance's owner sees it too, and only it.
        owned = json.loads(reader.shell(as_owner))
        assert [e['message_id'] for e in owned] == [event['message_id']]
        assert 'raw notifications on' in reader.log(0)
        assert 'Serving the panko API on http://127.0.0.1:%d/' % (
            reader.port) in reader.log(1)
    finally:
        reader.stop()
