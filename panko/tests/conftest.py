"""Fixtures giving tests real databases (see panko.tests.backends)."""

import pytest

from panko import storage
from panko.tests import backends
from panko.tests import replica


@pytest.fixture(scope='session', params=backends.STORAGE_BACKENDS)
def storage_url(request, tmp_path_factory):
    """A database of each storage backend, shared by the session."""
    with backends.temporary_database(
            request.param, str(tmp_path_factory.mktemp('db'))) as url:
        yield url


@pytest.fixture(scope='session')
def _session_connection(storage_url):
    connection = storage.get_connection(backends.make_conf(storage_url),
                                        storage_url)
    connection.upgrade()
    return connection


@pytest.fixture(scope='session')
def pg_replica():
    """A streaming replica of the test PostgreSQL server, on its own port."""
    with replica.required(backends.SERVER_URLS['postgresql']) as started:
        yield started


@pytest.fixture
def conn(_session_connection):
    """An empty, migrated store on each backend; the storage suite's."""
    _session_connection.clear()
    return _session_connection


@pytest.fixture(params=backends.SQL_ENGINES)
def empty_database_url(request, tmp_path):
    """A new, empty database of each SQL engine, for migration tests."""
    with backends.temporary_database(request.param, str(tmp_path)) as url:
        yield url
