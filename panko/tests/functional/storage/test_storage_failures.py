"""A database that goes away in the middle of a batch."""

import contextlib
import logging
import threading

import pytest
import sqlalchemy as sa

from panko import storage
from panko.storage import models
from panko.storage.sqlalchemy import postgresql
from panko.tests import backends
from panko.tests.functional.storage import test_storage

#: Find one's own session, and end another's.
KILL = {
    'postgresql': ('SELECT pg_backend_pid()',
                   'SELECT pg_terminate_backend(%d)'),
    'mysql': ('SELECT CONNECTION_ID()', 'KILL %d'),
}


class SessionKiller:
    """Ends a database session from another connection, as a server
    restart or a network failure would: what it runs next fails for real.
    """

    def __init__(self, engine_name, admin_url):
        self.engine_name = engine_name
        self.admin = sa.create_engine(admin_url, isolation_level='AUTOCOMMIT')
        self.killed = []

    def kill(self, dbapi_connection):
        find_session, kill_session = KILL[self.engine_name]
        cursor = dbapi_connection.cursor()
        cursor.execute(find_session)
        session_id = cursor.fetchone()[0]
        cursor.close()
        with self.admin.connect() as admin_conn:
            admin_conn.exec_driver_sql(kill_session % session_id)
        self.killed.append(session_id)


@contextlib.contextmanager
def connection_killed_mid_batch(engine_name, admin_url, monkeypatch):
    """Kill the writer's session after its events, before a trait table.

    PostgreSQL's rows go by COPY, straight to psycopg: the session is
    killed as the trait_int rows are about to be copied. The other
    engines' are INSERTs: it is killed before the trait_int one.
    """
    killer = SessionKiller(engine_name, admin_url)
    if engine_name == 'postgresql':
        copy = postgresql._copy

        def killing_copy(cursor, table, columns, rows):
            if table == 'trait_int' and not killer.killed:
                killer.kill(cursor.connection)
            return copy(cursor, table, columns, rows)
        monkeypatch.setattr(postgresql, '_copy', killing_copy)
        hook = None
    else:
        def hook(conn, cursor, statement, parameters, context, executemany):
            if statement.startswith('INSERT INTO trait_int') and (
                    not killer.killed):
                killer.kill(cursor.connection)
        sa.event.listen(sa.engine.Engine, 'before_cursor_execute', hook)
    try:
        yield killer.killed
    finally:
        if hook is not None:
            sa.event.remove(sa.engine.Engine, 'before_cursor_execute', hook)
        killer.admin.dispose()


@pytest.mark.parametrize('engine_name', ['postgresql', 'mysql'])
def test_lost_connection_mid_batch_commits_nothing(engine_name, tmp_path,
                                                   monkeypatch):
    with backends.temporary_database(engine_name, str(tmp_path)) as url:
        conn = storage.get_connection(backends.make_conf(url), url)
        conn.upgrade()
        conn.record_events([test_storage.make_event(0)])
        batch = [test_storage.make_event(n) for n in range(1, 6)]

        with connection_killed_mid_batch(
                engine_name, backends.SERVER_URLS[engine_name],
                monkeypatch) as killed:
            with pytest.raises(storage.StorageUnavailable):
                conn.record_events(batch)
        assert killed, 'the failure was never injected'

        # Nothing of the failed batch is visible, and the driver recovers:
        # the same batch stored again is complete.
        assert [e.message_id for e in conn.get_events(
            models.EventFilter())] == ['msg-000']
        result = conn.record_events(batch)
        assert len(result.stored) == 5
        assert conn.get_events(models.EventFilter()) == [
            event.validated()
            for event in [test_storage.make_event(0)] + batch]


@pytest.mark.parametrize('engine_name', ['postgresql', 'mysql'])
def test_concurrent_writers_store_each_event_once(engine_name, tmp_path):
    """Two writers racing with the same batch, as redeliveries can."""
    with backends.temporary_database(engine_name, str(tmp_path)) as url:
        writers = [storage.get_connection(backends.make_conf(url), url)
                   for _ in range(2)]
        writers[0].upgrade()
        for round_number in range(5):
            batch = [test_storage.make_event(round_number * 100 + n)
                     for n in range(50)]
            barrier = threading.Barrier(2)
            results = []

            def write(writer, batch=batch, barrier=barrier, results=results):
                barrier.wait()
                results.append(writer.record_events(batch))

            threads = [threading.Thread(target=write, args=(writer,))
                       for writer in writers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert len(results) == 2, 'a writer failed'
            stored = sorted(results[0].stored + results[1].stored)
            assert stored == sorted(e.message_id for e in batch)
        assert len(writers[0].get_events(models.EventFilter())) == 250


def test_start_up_retries_follow_the_storage_options(caplog):
    conf = backends.make_conf('postgresql://nobody@127.0.0.1:1/none',
                              storage__max_retries=2,
                              storage__retry_interval=0)
    # oslo.log's set-up replaced the root handlers, pytest's included.
    logging.getLogger().addHandler(caplog.handler)
    with pytest.raises(storage.StorageUnavailable):
        storage.get_connection_from_config(conf)
    retries = [r for r in caplog.records
               if 'Cannot connect to the database' in r.getMessage()]
    assert len(retries) == 2


def test_unknown_scheme_is_a_clear_error():
    with pytest.raises(storage.StorageError, match="no storage driver for"
                                                   " 'hbase' URLs"):
        storage.get_connection(backends.make_conf(), 'hbase://localhost')


@pytest.mark.parametrize('engine_name', ['postgresql', 'mysql'])
def test_one_connection_shared_by_threads(engine_name, tmp_path):
    """Writers in threads of one process, while the expirer runs."""
    with backends.temporary_database(engine_name, str(tmp_path)) as url:
        conn = storage.get_connection(backends.make_conf(url), url)
        conn.upgrade()
        errors = []
        done = threading.Event()

        def write(number):
            try:
                for batch in range(10):
                    conn.record_events([test_storage.make_event(
                        number * 1000 + batch * 10 + n,
                        event_type='type.%d' % ((batch + n) % 4))
                        for n in range(10)])
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        def expire():
            try:
                while not done.is_set():
                    conn.clear_expired_data(10 ** 9)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        expirer = threading.Thread(target=expire)
        expirer.start()
        writers = [threading.Thread(target=write, args=(number,))
                   for number in range(4)]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()
        done.set()
        expirer.join()
        assert errors == []
        assert len(conn.get_events(models.EventFilter())) == 400
        for event_type in ('type.0', 'type.1', 'type.2', 'type.3'):
            assert len(conn.get_trait_types(event_type)) == 6
