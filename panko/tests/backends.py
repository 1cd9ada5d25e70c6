"""The servers the tests run against, and configurations pointing at them.

The storage suite runs on every backend: SQLite, PostgreSQL and
MariaDB/MySQL, each on a real server, and MongoDB; on PostgreSQL twice,
unpartitioned and partitioned by time (``postgresql-partitioned``). A
server that cannot be reached skips its tests on a developer's machine,
and fails them when ``CI=true``, so that CI never passes by testing
nothing.

No MongoDB server can be installed on the machines that run the suite:
MongoDB tests run on mongomock unless ``PANKO_TEST_MONGODB_URL`` names a
real server (then each session gets a database of its own, dropped
afterwards).
"""

import contextlib
import os
import uuid

import kombu
import mongomock
import pymongo
from pymongo import errors as mongo_errors
import pytest
import sqlalchemy as sa

from harness import databases
from harness import messaging
from panko import service
from panko import storage

SERVER_URLS = {
    'postgresql': os.environ.get('PANKO_TEST_POSTGRESQL_URL',
                                 'postgresql://root@127.0.0.1:5432/postgres'),
    'mysql': os.environ.get('PANKO_TEST_MYSQL_URL',
                            'mysql+pymysql://root@127.0.0.1:3306/'),
}
SQL_ENGINES = ('sqlite', 'postgresql', 'mysql')
#: PostgreSQL with the event and trait tables partitioned by time.
PARTITIONED = 'postgresql-partitioned'
#: Every backend the shared storage suite runs on.
STORAGE_BACKENDS = SQL_ENGINES + (PARTITIONED, 'mongodb')
#: A real MongoDB server; unset, MongoDB tests run on mongomock.
MONGODB_URL = os.environ.get('PANKO_TEST_MONGODB_URL')
#: The server mongomock pretends to be (a name no real server has).
MONGOMOCK_SERVER = 'mongomock.invalid:27017'


def unreachable(what, error):
    """Skip, or fail in CI, because a service the test needs is down."""
    message = '%s is unreachable: %s' % (what, error)
    if os.environ.get('CI') == 'true':
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require_broker():
    """Skip the test (fail it in CI) unless RabbitMQ answers."""
    try:
        with kombu.Connection(messaging.amqp_url(),
                              connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as e:
        unreachable('RabbitMQ', e)


def requires_mongodb_server(why):
    """Skip a test that mongomock cannot run, unless a server is set.

    This skip holds in CI too: no MongoDB server can be installed there,
    and the driver relies on the real server's feature (``why``).
    """
    if not MONGODB_URL:
        pytest.skip('needs a real MongoDB server (PANKO_TEST_MONGODB_URL): '
                    '%s' % why)


@contextlib.contextmanager
def temporary_mongodb():
    """Yield the URL of a new MongoDB database, then drop it.

    Without PANKO_TEST_MONGODB_URL, pymongo.MongoClient is replaced by
    mongomock for as long as the database lives; clients of any other
    server still get the real pymongo.
    """
    name = 'panko_test_%s' % uuid.uuid4().hex[:12]
    if not MONGODB_URL:
        with mongomock.patch(servers=(MONGOMOCK_SERVER,), on_new='pymongo'):
            yield 'mongodb://%s/%s' % (MONGOMOCK_SERVER, name)
        return
    client = pymongo.MongoClient(MONGODB_URL, serverSelectionTimeoutMS=5000)
    try:
        client.admin.command('ping')
    except mongo_errors.ConnectionFailure as e:
        client.close()
        unreachable('MongoDB', e)
    server, _, options = MONGODB_URL.partition('?')
    server = server.split('://', 1)[1].split('/', 1)[0]
    try:
        yield 'mongodb://%s/%s%s' % (server, name,
                                     '?' + options if options else '')
    finally:
        client.drop_database(name)
        client.close()


@contextlib.contextmanager
def temporary_database(engine_name, directory):
    """Create an empty database, yield its URL, then drop it."""
    if engine_name == 'mongodb':
        with temporary_mongodb() as url:
            yield url
        return
    if engine_name == PARTITIONED:
        with temporary_database('postgresql', directory) as url:
            partition(url)
            yield url
        return
    if engine_name == 'sqlite':
        yield 'sqlite:///%s' % os.path.join(directory,
                                            '%s.db' % uuid.uuid4().hex)
        return
    name = 'panko_test_%s' % uuid.uuid4().hex[:12]
    try:
        url = databases.create(SERVER_URLS[engine_name], name)
    except sa.exc.OperationalError as e:
        unreachable(engine_name, e)
    try:
        yield url
    finally:
        databases.drop(SERVER_URLS[engine_name], name)


def partition(url):
    """Create the schema of a new PostgreSQL database, partitioned."""
    connection = storage.get_connection(
        make_conf(url, database__partitioning='auto'), url)
    connection.upgrade()
    connection.engine.dispose()


def make_conf(url=None, **overrides):
    """A panko configuration as the commands build it, without files."""
    conf = service.prepare_service([], config_files=[])
    if url is not None:
        conf.set_override('connection', url, 'database')
    for name, value in overrides.items():
        group, _, option = name.rpartition('__')
        conf.set_override(option, value, group or None)
    return conf
