"""Databases created and dropped on the PostgreSQL and MariaDB servers.

The tests' databases (panko.tests.backends) and the benchmarks'
(bench.databases) are all made and removed here. A server is given by
the URL of an account that may create and drop databases; a database
name is a plain identifier chosen by the caller, never quoted.
"""

import contextlib

import sqlalchemy as sa


def url_of(server_url, name):
    """The URL of the database ``name`` on the server of ``server_url``."""
    url = sa.engine.make_url(server_url).set(database=name)
    return url.render_as_string(hide_password=False)


def create(server_url, name):
    """Create the empty database ``name``; return its URL.

    A server that cannot be reached raises sqlalchemy's OperationalError.
    """
    with _server(server_url) as conn:
        conn.execute(sa.text('CREATE DATABASE %s' % name))
    return url_of(server_url, name)


def drop(server_url, name):
    """Drop the database ``name`` if there is one.

    On PostgreSQL, FORCE ends the sessions still open on it (a process
    under test that was killed, say), which would otherwise block the drop.
    """
    with _server(server_url) as conn:
        force = ' WITH (FORCE)' if conn.dialect.name == 'postgresql' else ''
        conn.execute(sa.text('DROP DATABASE IF EXISTS %s%s' % (name, force)))


@contextlib.contextmanager
def _server(server_url):
    server = sa.create_engine(server_url, isolation_level='AUTOCOMMIT')
    try:
        with server.connect() as conn:
            yield conn
    finally:
        server.dispose()
