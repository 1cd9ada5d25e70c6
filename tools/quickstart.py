#!/usr/bin/env python3
"""Serve panko locally: SQLite, no Keystone, sample events loaded.

Needs only Python 3.10+. Creates ``.venv`` (shared with
tools/run-tests.sh) and installs panko into it, again only when the
requirement files change; keeps its configuration, log and database in
``.quickstart/``, the database created afresh at each start; loads the
sample notifications of ``etc/panko/samples`` through panko's own
normalization, owned by the quickstart's identity; and serves the API
until interrupted.
"""

import argparse
import hashlib
import os
import shlex
import socket
import subprocess
import sys
import time
import uuid
import venv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: The identity of the examples, which owns the sample events, and which
#: the quickstart's pipeline gives requests that come without one.
USER = PROJECT = 'quickstart'
IDENTITY = ("-H 'X-User-Id: %s' -H 'X-Project-Id: %s' -H 'X-Roles: admin'"
            % (USER, PROJECT))
#: The openstack CLI and panko's plugin for it, as the example uses them.
CLIENTS = ('python-openstackclient', 'pankoclient==1.2.0')
#: What pip installs from: when none of them changed, the virtualenv is
#: current and pip is not run.
REQUIREMENT_FILES = ('requirements.txt', 'setup.cfg', 'setup.py',
                     'pyproject.toml')
#: The lines of pip's output shown as progress.
PIP_PROGRESS = ('Obtaining', 'Collecting', 'Downloading', 'Building',
                'Installing collected', 'Successfully installed')
#: The noauth pipeline that takes callers without identity as an admin of
#: the project "quickstart", for the openstack CLI.
PASTE_CONFIG = os.path.join(ROOT, 'etc', 'panko', 'api_paste_quickstart.ini')
#: The event of the examples that show one: its message_id, which
#: tools/load_samples.py derives from the sample's file name.
SAMPLE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL,
                           'nova_compute_instance_create_end.json'))


def check_port(host, port):
    """Exit with advice, before anything else, when ``port`` is taken."""
    with socket.socket() as probe:
        # As panko-api's server does, so that a closing connection of an
        # earlier run does not count as taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            return
        except OSError as error:
            reason = error.strerror or str(error)
    sys.exit('The quickstart cannot serve the API on %s port %d: %s.\n'
             'Stop what listens there (`ss -ltnp` shows it: an earlier '
             'quickstart?),\nor choose another port:\n\n'
             '    python3 tools/quickstart.py --port %d\n'
             % (host, port, reason, port + 1))


def requirements_digest():
    """A digest of what pip installs, to tell whether it changed."""
    digest = hashlib.sha256(ROOT.encode())
    digest.update(repr(CLIENTS).encode())
    for name in REQUIREMENT_FILES:
        path = os.path.join(ROOT, name)
        if os.path.exists(path):
            with open(path, 'rb') as f:
                digest.update(name.encode() + b'\0' + f.read())
    return digest.hexdigest()


def pip_install(python, arguments):
    """Run pip, showing the lines of its output that tell how far it got.

    All of it is shown if it fails.
    """
    pip = subprocess.Popen([python, '-m', 'pip', 'install'] + arguments,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    output = []
    for line in pip.stdout:
        output.append(line)
        if line.lstrip().startswith(PIP_PROGRESS):
            print('  ' + line.strip(), flush=True)
    if pip.wait():
        sys.stderr.write(''.join(output))
        sys.exit('pip failed (exit status %d): its output is above.'
                 % pip.returncode)


def virtualenv(path):
    """The virtualenv's bin directory, with panko and the CLI in it."""
    bin_dir = os.path.join(path, 'bin')
    stamp = os.path.join(path, 'panko-quickstart.stamp')
    digest = requirements_digest()
    if os.path.exists(stamp):
        with open(stamp) as f:
            if f.read().strip() == digest:
                return bin_dir
    if not os.path.exists(os.path.join(bin_dir, 'python')):
        print('Creating the virtualenv %s' % display_path(path), flush=True)
        venv.create(path, with_pip=True)
    print('Installing panko and the openstack CLI into %s (a few minutes '
          'the first time; again only when\n%s change)'
          % (display_path(path), ', '.join(REQUIREMENT_FILES)), flush=True)
    pip_install(os.path.join(bin_dir, 'python'), ['-e', ROOT] + list(CLIENTS))
    with open(stamp, 'w') as f:
        f.write(digest + '\n')
    return bin_dir


def write_config(state_dir, host, port):
    os.makedirs(state_dir, exist_ok=True)
    path = os.path.join(state_dir, 'panko.conf')
    with open(path, 'w') as f:
        f.write('[DEFAULT]\n'
                'log_file = %s\n'
                '[database]\n'
                'connection = sqlite:///%s\n'
                '[api]\n'
                'auth_mode = noauth\n'
                'paste_config = %s\n'
                'host = %s\n'
                'port = %d\n'
                % (log_path(state_dir), database_path(state_dir),
                   PASTE_CONFIG, host, port))
    return path


def log_path(state_dir):
    return os.path.join(state_dir, 'panko.log')


def database_path(state_dir):
    return os.path.join(state_dir, 'panko.sqlite')


def load_samples(bin_dir, config, state_dir):
    """A new database with the samples in it, owned by the quickstart."""
    print('Creating the database %s and loading the sample events'
          % display_path(database_path(state_dir)), flush=True)
    if os.path.exists(database_path(state_dir)):
        os.remove(database_path(state_dir))
    subprocess.run([os.path.join(bin_dir, 'panko-dbsync'),
                    '--config-file', config], check=True)
    subprocess.run([os.path.join(bin_dir, 'python'),
                    os.path.join(ROOT, 'tools', 'load_samples.py'),
                    '--config-file', config, '--owner-project', PROJECT,
                    '--owner-user', USER], check=True)


def display_path(path):
    """``path`` relative to the working directory when it is inside it."""
    relative = os.path.relpath(path)
    return path if relative.startswith(os.pardir) else relative


def print_examples(base, state_dir, bin_dir):
    print('\nThe panko API is on %s (Ctrl-C stops it).\n\n'
          'The samples come from several projects; they were loaded as the '
          'project and user\n"%s" (their project_id, tenant_id and user_id '
          'traits), the identity of these\nexamples, which sees them all. '
          'Try:\n' % (base, PROJECT))
    for comment, path in (
            ('three of the events', '/v2/events?limit=3'),
            ('the instances created', '/v2/events?q.field=event_type'
             '&q.op=eq&q.value=compute.instance.create.end'),
            ('the events with memory_mb of 2048 or more',
             '/v2/events?q.field=memory_mb&q.op=ge&q.value=2048'
             '&q.type=integer'),
            ('one event, by its message_id', '/v2/events/' + SAMPLE_ID),
            ('the event types', '/v2/event_types'),
            ('the traits of one event type',
             '/v2/event_types/compute.instance.create.end/traits'),
            ("every project's events (admin only)",
             '/v2/events?q.field=all_tenants&q.value=True&limit=3')):
        print('  # %s\n  curl -s %s %s' % (
            comment, IDENTITY, shlex.quote(base + path)))
    print('\nA caller sees the events of its project and user (X-Project-Id, '
          'X-User-Id); with\nX-Roles: admin, those of its project, and with '
          'all_tenants those of every project.\n\n'
          'The quickstart takes a request without X-User-Id and '
          'X-Project-Id as the admin above,\nso the openstack CLI works '
          'without Keystone:\n')
    openstack = '%s --os-auth-type none --os-endpoint %s' % (
        display_path(os.path.join(bin_dir, 'openstack')), base)
    print('  # three of the events, as a table\n'
          '  %s event list --limit 3\n'
          '  # one event, by a message_id from the list\n'
          '  %s event show %s' % (openstack, openstack, SAMPLE_ID))
    print('\nLogs: %s\n' % display_path(log_path(state_dir)), flush=True)


def serving(server, host, port):
    """Wait until panko-api answers on ``port``; False if it stopped."""
    while server.poll() is None:
        try:
            socket.create_connection((host, port), 1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def serve(bin_dir, config, args):
    """Run panko-api until Ctrl-C; say why when it stops on its own.

    The examples are printed once it answers, so that they work at once.
    """
    state_dir = args.state_dir
    print('Starting the API', flush=True)
    server = subprocess.Popen([os.path.join(bin_dir, 'panko-api'),
                               '--config-file', config])
    try:
        if serving(server, args.host, args.port):
            print_examples('http://%s:%d' % (args.host, args.port),
                           state_dir, bin_dir)
        returncode = server.wait()
    except KeyboardInterrupt:
        # The terminal sent Ctrl-C to panko-api as well.
        server.wait()
        return 0
    try:
        with open(log_path(state_dir)) as f:
            tail = f.readlines()[-10:]
    except FileNotFoundError:
        tail = []
    sys.stderr.write('panko-api stopped (exit status %d). The end of %s:\n%s'
                     % (returncode, display_path(log_path(state_dir)),
                        ''.join(tail)))
    return 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8977)
    parser.add_argument('--venv', default=os.path.join(ROOT, '.venv'))
    parser.add_argument('--state-dir',
                        default=os.path.join(ROOT, '.quickstart'))
    args = parser.parse_args()

    check_port(args.host, args.port)
    bin_dir = virtualenv(args.venv)
    config = write_config(args.state_dir, args.host, args.port)
    load_samples(bin_dir, config, args.state_dir)
    return serve(bin_dir, config, args)


if __name__ == '__main__':
    sys.exit(main())
