"""Benchmark databases: one per engine, created empty and dropped after.

On the servers, harness.databases makes and removes them, as it does the
tests' databases.
"""

import contextlib
import logging
import os

import sqlalchemy as sa

import harness.databases
from panko import service
from panko import storage

ENGINES = ('postgresql', 'mysql', 'sqlite')
SERVERS = {
    'postgresql': os.environ.get('PANKO_BENCH_POSTGRESQL_URL',
                                 'postgresql+psycopg://root@127.0.0.1:5432/'
                                 'postgres'),
    'mysql': os.environ.get('PANKO_BENCH_MYSQL_URL',
                            'mysql+pymysql://root@127.0.0.1:3306/'),
}
NAME = 'panko_bench'
SQLITE_DIRECTORY = os.environ.get('PANKO_BENCH_SQLITE_DIR', '/tmp')


def url_of(engine, name=NAME):
    """The URL of the benchmark database ``name`` of ``engine``."""
    if engine == 'sqlite':
        return 'sqlite:///%s' % _sqlite_path(name)
    return harness.databases.url_of(SERVERS[engine], name)


def engine_of(url):
    return sa.engine.make_url(url).get_backend_name()


def name_of(url):
    """The name ``create`` and ``drop`` give the database of ``url``."""
    url = sa.engine.make_url(url)
    if url.get_backend_name() != 'sqlite':
        return url.database
    directory, file_name = os.path.split(url.database or '')
    name, extension = os.path.splitext(file_name)
    if (extension != '.sqlite'
            or os.path.abspath(directory) != os.path.abspath(
                SQLITE_DIRECTORY)):
        raise ValueError('%s is not a benchmark database: create SQLite '
                         'ones as %s' % (url, _sqlite_path('NAME')))
    return name


def _sqlite_path(name):
    return os.path.join(SQLITE_DIRECTORY, name + '.sqlite')


def create(engine, name=NAME):
    """Create an empty database (dropping any previous one)."""
    drop(engine, name)
    if engine == 'sqlite':
        return url_of(engine, name)
    return harness.databases.create(SERVERS[engine], name)


def drop(engine, name=NAME):
    if engine == 'sqlite':
        for suffix in ('', '-wal', '-shm', '-journal'):
            with contextlib.suppress(FileNotFoundError):
                os.remove(_sqlite_path(name) + suffix)
        return
    harness.databases.drop(SERVERS[engine], name)


def connect(url, partitioned=False):
    """A panko storage connection to ``url``, schema up to date.

    ``partitioned``: a new PostgreSQL database is partitioned by time.
    """
    conf = service.prepare_service([], config_files=[])
    conf.set_override('connection', url, 'database')
    if partitioned:
        conf.set_override('partitioning', 'auto', 'database')
    logging.getLogger('alembic').setLevel(logging.WARNING)
    connection = storage.get_connection(conf, url)
    connection.upgrade()
    return connection
