"""tools/start-services.sh, with ``service`` stubbed and servers faked.

Every URL points at a port of the test's own, so the real servers are
neither used nor started. Starting needs root and the server's Debian
init script, as the script itself does.
"""

import os
import socket
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, 'tools', 'start-services.sh')

# Records its arguments; "starts" PostgreSQL by listening on $PORT until
# one connection came, and fails to start anything else.
SERVICE_STUB = '''#!/bin/bash
echo "$*" >> "$CALLS"
[ "$1 $2" = "postgresql start" ] || exit 1
"$PYTHON" -c 'import socket, sys
server = socket.create_server(("127.0.0.1", int(sys.argv[1])))
server.settimeout(60)
server.accept()' "$PORT" > /dev/null 2>&1 &
'''


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def server():
    """The port of a server that answers."""
    with socket.create_server(('127.0.0.1', 0)) as s:
        yield s.getsockname()[1]


def run(tmp_path, postgresql, mysql, rabbit, **env):
    stubs = tmp_path / 'bin'
    stubs.mkdir()
    (stubs / 'service').write_text(SERVICE_STUB)
    (stubs / 'service').chmod(0o755)
    env = dict(os.environ, PATH='%s:%s' % (stubs, os.environ['PATH']),
               CALLS=str(tmp_path / 'calls'), PYTHON=sys.executable,
               PANKO_TEST_POSTGRESQL_URL=postgresql,
               PANKO_TEST_MYSQL_URL=mysql, PANKO_TEST_RABBIT_URL=rabbit,
               **env)
    return subprocess.run([SCRIPT], env=env, capture_output=True,
                          text=True, timeout=120)


def calls(tmp_path):
    path = tmp_path / 'calls'
    return path.read_text().splitlines() if path.exists() else []


def can_start(service):
    if os.geteuid() != 0:
        pytest.skip('only root starts services')
    if not os.path.exists('/etc/init.d/%s' % service):
        pytest.skip('%s is not installed' % service)


def test_quiet_when_every_server_answers(tmp_path, server):
    result = run(tmp_path, 'postgresql://root@127.0.0.1:%d/postgres' % server,
                 'mysql+pymysql://root@127.0.0.1:%d/' % server,
                 'rabbit://guest:guest@localhost:%d/' % server)
    assert (result.returncode, result.stdout, result.stderr) == (0, '', '')
    assert calls(tmp_path) == []


def test_a_server_elsewhere_is_only_named(tmp_path, server):
    # The script starts servers only for 127.0.0.1 and localhost.
    port = free_port()
    result = run(tmp_path, 'postgresql://root@127.0.0.1:%d/postgres' % server,
                 'mysql+pymysql://root:pw@127.0.0.2:%d/panko' % port,
                 'rabbit://guest:guest@127.0.0.1:%d/' % server)
    assert result.returncode == 1
    assert result.stderr == 'MariaDB does not answer at 127.0.0.2:%d\n' % port
    assert calls(tmp_path) == []


def test_starts_a_stopped_server(tmp_path, server):
    can_start('postgresql')
    port = free_port()
    result = run(tmp_path, 'postgresql://root@127.0.0.1:%d/postgres' % port,
                 'mysql+pymysql://root@127.0.0.1:%d/' % server,
                 'rabbit://guest:guest@127.0.0.1:%d/' % server,
                 PORT=str(port))
    assert (result.returncode, result.stderr) == (0, '')
    assert result.stdout == 'Starting PostgreSQL: service postgresql start\n'
    assert calls(tmp_path) == ['postgresql start']


def test_says_which_server_did_not_start(tmp_path, server):
    can_start('mariadb')
    result = run(tmp_path, 'postgresql://root@127.0.0.1:%d/postgres' % server,
                 'mysql+pymysql://root@127.0.0.1:%d/' % free_port(),
                 'rabbit://guest:guest@127.0.0.1:%d/' % server)
    assert result.returncode == 1
    assert result.stderr == ('MariaDB did not start: service mariadb start '
                             'failed\n')
    assert calls(tmp_path) == ['mariadb start']


# Debian's cluster tools: one cluster "15 main" on $PORT, its pg_hba.conf
# at $HBA; pg_ctlcluster only records its arguments.
CLUSTER_STUBS = {
    'pg_lsclusters': 'echo "15 main $PORT online postgres /srv/15 /srv/log"',
    'pg_conftool': 'echo "hba_file = \'$HBA\'"',
    'pg_ctlcluster': 'echo "pg_ctlcluster $*" >> "$CALLS"',
}


def test_lets_127_0_0_1_replicate_once(tmp_path, server):
    if os.geteuid() != 0:
        pytest.skip('only root edits pg_hba.conf')
    hba = tmp_path / 'pg_hba.conf'
    hba.write_text('host all all 127.0.0.1/32 trust\n')
    stubs = tmp_path / 'bin'
    stubs.mkdir()
    for name, text in CLUSTER_STUBS.items():
        (stubs / name).write_text('#!/bin/bash\n%s\n' % text)
        (stubs / name).chmod(0o755)
    env = dict(os.environ, PATH='%s:%s' % (stubs, os.environ['PATH']),
               CALLS=str(tmp_path / 'calls'), HBA=str(hba),
               PORT=str(server),
               PANKO_TEST_POSTGRESQL_URL='postgresql://root@127.0.0.1:%d/'
                                         % server,
               PANKO_TEST_MYSQL_URL='mysql://127.0.0.1:%d/' % server,
               PANKO_TEST_RABBIT_URL='rabbit://127.0.0.1:%d/' % server)
    first, second = (subprocess.run([SCRIPT], env=env, capture_output=True,
                                    text=True, timeout=60)
                     for _ in range(2))
    assert (first.returncode, first.stderr) == (0, '')
    assert 'Letting 127.0.0.1 replicate from PostgreSQL 15/main' in (
        first.stdout)
    assert (second.returncode, second.stdout, second.stderr) == (0, '', '')
    assert hba.read_text().splitlines() == [
        'host all all 127.0.0.1/32 trust',
        "host replication all 127.0.0.1/32 trust  # panko's read-replica "
        'tests']
    assert calls(tmp_path) == ['pg_ctlcluster 15 main reload']
