"""A streaming replica of the test PostgreSQL server, made by the tests.

``running()`` clones the whole server with ``pg_basebackup`` and starts
the clone as a hot standby with the server binaries of the installed
PostgreSQL of the same major version, on a free port of 127.0.0.1, in a
temporary directory; afterwards it stops the standby and removes the
directory. PostgreSQL refuses to run as root: as root, the commands run
as the ``postgres`` user (``runuser``), who owns the directory.

The server must accept replication connections from 127.0.0.1
(tools/start-services.sh sees to it). The replica streams through a
physical replication slot of the server, so that the server keeps the WAL
the replica has yet to read however much others write meanwhile; the slot
is dropped with the replica, and the slot of a session that died before
it could drop its own is dropped by the next session.

A database the tests create on the server appears on the replica once
the replica has replayed that far: see :meth:`Replica.caught_up`.
"""

import contextlib
import functools
import os
import shutil
import socket
import subprocess
import tempfile
import time

import sqlalchemy as sa

from panko.tests import backends

#: Where Debian installs each major version's server binaries.
BINARIES = '/usr/lib/postgresql/%d/bin'
#: Settings a hot standby needs at least as high as its primary's.
STANDBY_MINIMUMS = ('max_connections', 'max_worker_processes',
                    'max_wal_senders', 'max_prepared_transactions',
                    'max_locks_per_transaction')
#: Seconds to wait for the clone, the start, a catch-up.
TIMEOUT = 600
#: Slots are named SLOT_PREFIX + the pid of the test process + a suffix.
SLOT_PREFIX = 'panko_test_replica_'


class ReplicaError(Exception):
    """The replica could not be made, started or brought up to date."""


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _as_postgres(command):
    """``command`` run as the ``postgres`` user when we are root."""
    if os.geteuid() == 0:
        return ['runuser', '-u', 'postgres', '--'] + command
    return command


def _run(command, what):
    try:
        subprocess.run(_as_postgres(command), check=True, timeout=TIMEOUT,
                       capture_output=True, text=True, cwd='/')
    except (OSError, subprocess.SubprocessError) as e:
        raise ReplicaError('%s failed: %s %s' % (
            what, e, getattr(e, 'stderr', '') or '')) from e


@contextlib.contextmanager
def _autocommit(url):
    engine = sa.create_engine(url, isolation_level='AUTOCOMMIT',
                              poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _scalar(url, statement):
    with _autocommit(url) as conn:
        return conn.scalar(sa.text(statement))


class Replica:
    """A hot standby of the server at ``primary_url``, on ``port``."""

    def __init__(self, primary_url, port, directory):
        self.primary_url = primary_url
        self.port = port
        self.directory = directory
        self.data = os.path.join(directory, 'data')
        self.slot = '%s%d_%d' % (SLOT_PREFIX, os.getpid(), port)

    def url_of(self, primary_database_url):
        """The URL of the same database on the replica."""
        return sa.engine.make_url(primary_database_url).set(
            host='127.0.0.1', port=self.port).render_as_string(
            hide_password=False)

    @property
    def url(self):
        return self.url_of(self.primary_url)

    def caught_up(self, timeout=120):
        """Wait until the replica has replayed what the primary wrote.

        A transaction that writes to the WAL (a message for logical
        decoding, which nothing decodes) commits once the WAL is flushed,
        so that it reaches the replica, everything before it too; the
        primary's position is then the end of its commit record. Left
        alone, the position may be past every record (after a segment
        switch), or ahead of what is flushed and sent.
        """
        with _autocommit(self.primary_url) as conn:
            conn.execute(sa.text("SELECT pg_logical_emit_message(true, "
                                 "'panko-tests', 'caught up?')"))
            target = conn.scalar(sa.text('SELECT pg_current_wal_lsn()'))
        deadline = time.monotonic() + timeout
        while not _scalar(self.url, "SELECT pg_last_wal_replay_lsn() >= "
                                    "'%s'::pg_lsn" % target):
            if time.monotonic() > deadline:
                raise ReplicaError('the replica has not replayed up to %s '
                                   'in %d seconds' % (target, timeout))
            time.sleep(0.05)

    @contextlib.contextmanager
    def paused(self):
        """Replay paused: the replica shows nothing new until the end."""
        with _autocommit(self.url) as conn:
            conn.execute(sa.text('SELECT pg_wal_replay_pause()'))
            while conn.scalar(sa.text(
                    'SELECT pg_get_wal_replay_pause_state()')) != 'paused':
                time.sleep(0.05)
        try:
            yield
        finally:
            _scalar(self.url, 'SELECT pg_wal_replay_resume()')

    def clone(self):
        primary = sa.engine.make_url(self.primary_url)
        _run([self._binary('pg_basebackup'), '-h', primary.host or '',
              '-p', str(primary.port or 5432), '-U', primary.username or '',
              '-D', self.data, '-R', '-X', 'stream', '-c', 'fast',
              '-C', '-S', self.slot], 'pg_basebackup')
        settings = {'listen_addresses': "'127.0.0.1'",
                    'port': str(self.port),
                    'unix_socket_directories': "'%s'" % self.directory,
                    'hot_standby': 'on'}
        with _autocommit(self.primary_url) as conn:
            settings.update(conn.execute(sa.text(
                'SELECT name, setting FROM pg_settings WHERE name = ANY('
                ':names)'), {'names': list(STANDBY_MINIMUMS)}).all())
        # Debian keeps the configuration outside the data directory,
        # which pg_basebackup copies alone.
        self._write('postgresql.conf', ''.join(
            '%s = %s\n' % item for item in settings.items()))
        self._write('pg_hba.conf', 'host all all 127.0.0.1/32 trust\n')
        self._write('pg_ident.conf', '')

    def _write(self, name, text):
        path = os.path.join(self.data, name)
        with open(path, 'w') as f:
            f.write(text)
        shutil.chown(path, *_owner(self.data))

    def start(self):
        try:
            _run([self._binary('pg_ctl'), '-D', self.data, '-l',
                  os.path.join(self.directory, 'log'), '-w',
                  '-t', str(TIMEOUT), 'start'], 'pg_ctl start')
        except ReplicaError as e:
            raise ReplicaError('%s; its log ends: %s' % (e, self.log()))

    def stop(self):
        _run([self._binary('pg_ctl'), '-D', self.data, '-m', 'fast', '-w',
              'stop'], 'pg_ctl stop')

    def drop_slot(self):
        _drop_slots(self.primary_url, [self.slot])

    @functools.cached_property
    def _binaries(self):
        version = _scalar(self.primary_url, 'SHOW server_version_num')
        return BINARIES % (int(version) // 10000)

    def log(self):
        with contextlib.suppress(OSError), open(
                os.path.join(self.directory, 'log')) as f:
            return f.read()[-2000:]
        return ''

    def _binary(self, name):
        path = os.path.join(self._binaries, name)
        if not os.access(path, os.X_OK):
            raise ReplicaError('no %s: the PostgreSQL server binaries of '
                               'the primary\'s version are not installed'
                               % path)
        return path


def _drop_slots(primary_url, names, timeout=30):
    """Drop the slots, once the sender of a replica just stopped is gone."""
    deadline = time.monotonic() + timeout
    with _autocommit(primary_url) as conn:
        for name in names:
            while conn.scalar(sa.text(
                    'SELECT active FROM pg_replication_slots WHERE '
                    'slot_name = :name'), {'name': name}):
                if time.monotonic() > deadline:
                    raise ReplicaError('slot %s still in use' % name)
                time.sleep(0.1)
            conn.execute(sa.text(
                'SELECT pg_drop_replication_slot(slot_name) FROM '
                'pg_replication_slots WHERE slot_name = :name'),
                {'name': name})


def _drop_orphan_slots(primary_url):
    """Drop the slots of test processes that are gone."""
    with _autocommit(primary_url) as conn:
        names = conn.scalars(sa.text(
            'SELECT slot_name FROM pg_replication_slots WHERE NOT active '
            'AND starts_with(slot_name, :prefix)'),
            {'prefix': SLOT_PREFIX}).all()
    _drop_slots(primary_url, [name for name in names
                              if not _alive(int(name.split('_')[3]))])


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _owner(path):
    stat = os.stat(path)
    return stat.st_uid, stat.st_gid


@contextlib.contextmanager
def running(primary_url):
    """Yield a running, caught-up Replica; then stop and remove it."""
    _drop_orphan_slots(primary_url)
    directory = tempfile.mkdtemp(prefix='panko-replica-')
    replica = Replica(primary_url, _free_port(), directory)
    try:
        if os.geteuid() == 0:
            shutil.chown(directory, 'postgres', 'postgres')
        replica.clone()
        replica.start()
        try:
            replica.caught_up()
            yield replica
        finally:
            replica.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        replica.drop_slot()


@contextlib.contextmanager
def required(primary_url):
    """running(), or the test skipped (failed in CI) when it cannot be."""
    with contextlib.ExitStack() as stack:
        try:
            replica = stack.enter_context(running(primary_url))
        except (ReplicaError, sa.exc.SQLAlchemyError, OSError,
                LookupError) as e:
            backends.unreachable('A streaming replica of PostgreSQL', e)
        yield replica
