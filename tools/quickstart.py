#!/usr/bin/env python3
"""Serve panko locally: SQLite, no Keystone, sample events loaded.

Needs only Python 3.10+. Creates ``.venv`` (shared with
tools/run-tests.sh), installs panko into it, keeps its database and
configuration in ``.quickstart/``, loads the sample notifications of
``etc/panko/samples`` through panko's own normalization, and serves the
API until interrupted.
"""

import argparse
import os
import subprocess
import sys
import venv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IDENTITY = ("-H 'X-User-Id: quickstart' -H 'X-Project-Id: quickstart' "
            "-H 'X-Roles: admin'")
#: The openstack CLI and panko's plugin for it, as the example uses them.
CLIENTS = ('python-openstackclient', 'pankoclient==1.2.0')
#: The noauth pipeline that takes callers without identity as an admin of
#: the project "quickstart", for the openstack CLI.
PASTE_CONFIG = os.path.join(ROOT, 'etc', 'panko', 'api_paste_quickstart.ini')


def virtualenv(path):
    """The virtualenv's bin directory, with panko and the CLI in it."""
    if not os.path.exists(os.path.join(path, 'bin', 'python')):
        print('Creating the virtualenv %s' % path)
        venv.create(path, with_pip=True)
    bin_dir = os.path.join(path, 'bin')
    print('Installing panko and the openstack CLI into %s' % path)
    subprocess.run([os.path.join(bin_dir, 'python'), '-m', 'pip', 'install',
                    '-q', '-e', ROOT] + list(CLIENTS), check=True)
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
                % (os.path.join(state_dir, 'panko.log'),
                   os.path.join(state_dir, 'panko.sqlite'), PASTE_CONFIG,
                   host, port))
    return path


def display_path(path):
    """``path`` relative to the working directory when it is inside it."""
    relative = os.path.relpath(path)
    return path if relative.startswith(os.pardir) else relative


def print_examples(base, state_dir, bin_dir):
    print('\nThe panko API is on %s (Ctrl-C stops it). Try:\n' % base)
    for path in (
            '/v2/events?q.field=all_tenants&q.value=True&limit=3',
            '/v2/events?q.field=event_type&q.op=eq'
            '&q.value=compute.instance.create.end&q.field=all_tenants'
            '&q.value=True',
            '/v2/events?q.field=memory_mb&q.op=ge&q.value=2048'
            '&q.type=integer&q.field=all_tenants&q.value=True',
            '/v2/event_types',
            '/v2/event_types/compute.instance.create.end/traits'):
        print("  curl -s %s '%s%s'" % (IDENTITY, base, path))
    print('\nWithout X-Roles: admin, a caller sees only the events of its '
          'own project (X-Project-Id).\n'
          'The quickstart takes a request without X-User-Id and '
          'X-Project-Id as the admin above,\nso the openstack CLI works '
          'without Keystone:\n')
    print('  %s --os-auth-type none --os-endpoint %s event list '
          '--filter all_tenants=True --limit 3'
          % (display_path(os.path.join(bin_dir, 'openstack')), base))
    print('\nLogs: %s\n' % os.path.join(state_dir, 'panko.log'))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8977)
    parser.add_argument('--venv', default=os.path.join(ROOT, '.venv'))
    parser.add_argument('--state-dir',
                        default=os.path.join(ROOT, '.quickstart'))
    args = parser.parse_args()

    bin_dir = virtualenv(args.venv)
    config = write_config(args.state_dir, args.host, args.port)
    subprocess.run([os.path.join(bin_dir, 'panko-dbsync'),
                    '--config-file', config], check=True)
    subprocess.run([os.path.join(bin_dir, 'python'),
                    os.path.join(ROOT, 'tools', 'load_samples.py'),
                    '--config-file', config], check=True)
    print_examples('http://%s:%d' % (args.host, args.port), args.state_dir,
                   bin_dir)
    sys.stdout.flush()
    os.execv(os.path.join(bin_dir, 'panko-api'),
             ['panko-api', '--config-file', config])


if __name__ == '__main__':
    main()
