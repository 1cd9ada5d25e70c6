"""The README's first command: tools/quickstart.py, run as a user would.

Every example it prints is run as printed, by the shell, and must return
what its comment says.
"""

import json
import os
import signal
import socket
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))))
QUICKSTART = os.path.join(ROOT, 'tools', 'quickstart.py')
SAMPLES = len(os.listdir(os.path.join(ROOT, 'etc', 'panko', 'samples')))

pytestmark = pytest.mark.slow


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def quickstart(port, state_dir):
    """Start the quickstart; the test's virtualenv stands in for .venv."""
    return subprocess.Popen(
        [sys.executable, QUICKSTART, '--port', str(port),
         '--venv', sys.prefix, '--state-dir', str(state_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)


def read_until_served(process):
    """Its output up to the end of the examples."""
    output = []
    # The examples are printed once the API answers; a failed step ends
    # the script, and so this loop.
    for line in process.stdout:
        output.append(line)
        if line.startswith('Logs:'):
            break
    output = ''.join(output)
    assert output.rstrip().splitlines()[-1].startswith('Logs:'), output
    return output


def stop(process):
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def examples(output):
    """The printed examples, as {comment: command line}."""
    found = {}
    comment = None
    for line in output.splitlines():
        line = line.strip()
        if line.startswith('# '):
            comment = line[2:]
        elif comment and line:
            found[comment] = line
            comment = None
    return found


def run(command):
    """``command`` run by the shell exactly as printed."""
    finished = subprocess.run(command, shell=True, capture_output=True,
                              text=True, timeout=60)
    assert finished.returncode == 0, (command, finished.stderr)
    return finished.stdout


def table_column(table, name):
    """The non-empty cells of a column of the openstack CLI's table."""
    rows = [[cell.strip() for cell in line.split('|')[1:-1]]
            for line in table.splitlines() if line.startswith('|')]
    column = rows[0].index(name)
    return [row[column] for row in rows[1:] if row[column]]


def trait(event, name):
    (value,) = [t['value'] for t in event['traits'] if t['name'] == name]
    return value


def owned_by_quickstart(events):
    return events and all(trait(e, 'project_id') == 'quickstart' and
                          trait(e, 'user_id') == 'quickstart'
                          for e in events)


#: What each curl example returns, by its comment.
CURL_CHECKS = {
    'three of the events': lambda body: (
        len(body) == 3 and owned_by_quickstart(body)),
    'the instances created': lambda body: (
        owned_by_quickstart(body) and
        {e['event_type'] for e in body} == {'compute.instance.create.end'}),
    'the events with memory_mb of 2048 or more': lambda body: (
        owned_by_quickstart(body) and
        all(int(trait(e, 'memory_mb')) >= 2048 for e in body)),
    'one event, by its message_id': lambda body: (
        body['event_type'] == 'compute.instance.create.end' and
        owned_by_quickstart([body])),
    'the event types': lambda body: (
        len(body) == SAMPLES and 'compute.instance.create.end' in body),
    'the traits of one event type': lambda body: (
        {'memory_mb', 'project_id'} <= {t['name'] for t in body}),
    "every project's events (admin only)": lambda body: len(body) == 3,
}


def test_quickstart_refuses_a_taken_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        finished = subprocess.run(
            [sys.executable, QUICKSTART, '--port', str(port),
             '--venv', str(tmp_path / 'venv'),
             '--state-dir', str(tmp_path / 'state')],
            capture_output=True, text=True, timeout=60)
    assert finished.returncode == 1
    assert finished.stdout == ''
    assert 'port %d: Address already in use' % port in finished.stderr
    assert 'tools/quickstart.py --port ' in finished.stderr
    # Nothing was done before the check.
    assert os.listdir(tmp_path) == []


def test_quickstart_serves_the_sample_events(tmp_path):
    port = free_port()
    process = quickstart(port, tmp_path)
    try:
        output = read_until_served(process)
        assert 'Sample events: %d stored' % SAMPLES in output, output
        printed = examples(output)
        curl = {comment: command for comment, command in printed.items()
                if command.startswith('curl ')}
        assert set(curl) == set(CURL_CHECKS), output
        for comment, command in curl.items():
            body = json.loads(run(command))
            assert CURL_CHECKS[comment](body), (command, body)

        # The samples belong to the quickstart identity: it sees every
        # one without all_tenants, as an admin or not.
        everything = curl['three of the events'].replace('?limit=3', '')
        assert len(json.loads(run(everything))) == SAMPLES
        as_member = everything.replace("X-Roles: admin", "X-Roles: member")
        assert len(json.loads(run(as_member))) == SAMPLES

        listed = run(printed['three of the events, as a table'])
        expected = json.loads(run(curl['three of the events']))
        assert table_column(listed, 'message_id') == [
            e['message_id'] for e in expected]
        shown = run(printed['one event, by a message_id from the list'])
        assert printed['one event, by a message_id from the list'].split()[
            -1] in shown
        assert 'compute.instance.create.end' in shown
        # Any message_id of the printed list works with event show.
        show = printed['one event, by a message_id from the list'].rsplit(
            ' ', 1)[0]
        for event in expected:
            shown = run('%s %s' % (show, event['message_id']))
            assert event['event_type'] in shown
    finally:
        stop(process)

    # A second start needs no pip, and starts from a new database.
    process = quickstart(port, tmp_path)
    try:
        output = read_until_served(process)
        assert 'Installing' not in output, output
        assert 'Sample events: %d stored, 0 already' % SAMPLES in output
        assert output.startswith('Creating the database'), output
    finally:
        stop(process)
