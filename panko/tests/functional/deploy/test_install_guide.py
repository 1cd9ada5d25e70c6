"""The install guide's commands, run as written on a fresh install.

The commands come from doc/source/install/index.rst (see
panko.tests.doc_steps): the blocks that can run on one machine without
Keystone or MySQL, with /opt/panko and /etc/panko in a temporary
directory and the database on SQLite (oslo.config's environment variable
overrides the guide's MySQL URL). The virtualenv is new: pip installs
panko and its dependencies as a deployer's would.
"""

import os
import re
import sqlite3
import subprocess

import pytest

from panko.tests import doc_steps

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))))
GUIDE = os.path.join(ROOT, 'doc', 'source', 'install', 'index.rst')

pytestmark = pytest.mark.slow


def test_guide_steps_are_marked():
    """The guide's tested steps, so that a lost marker is noticed."""
    steps = doc_steps.steps(GUIDE)
    assert [kind for kind, _ in steps] == [
        'shell', 'shell', '/etc/panko/panko.conf', 'shell', 'shell',
        'shell']
    assert steps[0][1].startswith('python3 -m venv /opt/panko\n')
    assert steps[2][1].startswith('[database]\n')
    assert steps[3][1] == (
        'panko-dbsync --config-file /etc/panko/panko.conf\n')


def test_install_guide_commands(tmp_path):
    opt, etc = str(tmp_path / 'opt' / 'panko'), str(tmp_path / 'etc' / 'panko')
    database = tmp_path / 'panko.sqlite'
    script = doc_steps.replace(
        doc_steps.script(doc_steps.steps(GUIDE)),
        {'/opt/panko': opt, '/etc/panko': etc, '/path/to/panko': ROOT,
         # The installed samples, under the virtualenv.
         '/opt/panko/etc/panko': opt + '/etc/panko'})
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(('OS_', 'VIRTUAL_ENV', 'PYTHON'))}
    env['OS_DATABASE__CONNECTION'] = 'sqlite:///%s' % database
    finished = subprocess.run(['bash', '-c', script], cwd=str(tmp_path),
                              env=env, capture_output=True, text=True,
                              timeout=900)
    assert finished.returncode == 0, finished.stdout + finished.stderr

    # The sample configuration, and the schema panko-dbsync created.
    with open(os.path.join(etc, 'panko.conf.sample')) as f:
        assert '[database]' in f.read()
    with sqlite3.connect(str(database)) as connection:
        tables = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {'event', 'trait_text'} <= tables

    # The path the mod_wsgi step prints is the one its virtual host names.
    printed = [line for line in finished.stdout.splitlines()
               if line.endswith('api.py')]
    assert len(printed) == 1, finished.stdout
    assert os.path.exists(printed[0])
    with open(GUIDE) as f:
        (alias,) = re.findall(r'WSGIScriptAlias / (\S+)', f.read())
    pattern = re.escape(alias.replace('/opt/panko', opt)).replace(
        r'python3\.12', r'python3\.\d+')
    assert re.fullmatch(pattern, printed[0]), (alias, printed[0])

    assert 'Success' in finished.stdout, finished.stdout
