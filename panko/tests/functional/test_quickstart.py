"""The README's first command: tools/quickstart.py, run as a user would."""

import itertools
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def curl_examples(output):
    """The printed curl commands, as (url, headers)."""
    examples = []
    for line in output.splitlines():
        if not line.strip().startswith('curl '):
            continue
        words = shlex.split(line)
        headers = dict(value.split(': ', 1) for flag, value
                       in itertools.pairwise(words) if flag == '-H')
        examples.append((words[-1], headers))
    return examples


def openstack_example(output):
    """The printed openstack command, as its words."""
    commands = [shlex.split(line) for line in output.splitlines()
                if ' event list ' in line]
    assert len(commands) == 1, output
    assert os.path.basename(commands[0][0]) == 'openstack'
    return commands[0]


def get_json(url, headers):
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return json.load(response)


def test_quickstart_serves_the_sample_events(tmp_path):
    port = free_port()
    # The test's own virtualenv stands in for the .venv it would create.
    process = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, 'tools', 'quickstart.py'),
         '--port', str(port), '--venv', sys.prefix,
         '--state-dir', str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    output = []
    try:
        # The examples are printed just before the server starts; a
        # failed step ends the script, and so this loop.
        for line in process.stdout:
            output.append(line)
            if line.startswith('Logs:'):
                break
        assert 'Sample events: 13 stored' in ''.join(output), output
        examples = curl_examples(''.join(output))
        assert len(examples) == 5
        for _ in range(100):
            try:
                socket.create_connection(('127.0.0.1', port), 1).close()
                break
            except OSError:
                time.sleep(0.2)
        for url, headers in examples:
            assert get_json(url, headers), 'no data from %s' % url
        # The openstack example lists what the first curl example does.
        listed = subprocess.run(
            openstack_example(''.join(output)), capture_output=True,
            text=True, timeout=60)
        assert listed.returncode == 0, listed.stderr
        expected = get_json(*examples[0])
        assert len(expected) == 3
        for event in expected:
            assert event['message_id'] in listed.stdout
            assert event['event_type'] in listed.stdout
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
