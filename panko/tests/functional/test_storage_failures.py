"""A database that goes away in the middle of a batch."""

import contextlib
import logging
import threading

import pytest
import sqlalchemy as sa

from panko import storage
from panko.storage import models
from panko.tests import conftest
from panko.tests.functional import test_storage

#: A moment in the middle of record_events' transaction: on PostgreSQL
#: after the event ids are drawn, so that the COPY of the rows (which goes
#: to psycopg directly) is what fails; elsewhere before a trait table's
#: INSERT, after the events'.
MID_BATCH = {'postgresql': ('after_cursor_execute', 'SELECT nextval'),
             'mysql': ('before_cursor_execute', 'INSERT INTO trait_int')}
KILL = {
    'postgresql': ('SELECT pg_backend_pid()',
                   'SELECT pg_terminate_backend(%d)'),
    'mysql': ('SELECT CONNECTION_ID()', 'KILL %d'),
}


@contextlib.contextmanager
def connection_killed_at(moment, admin_url):
    """Kill the session before or after it runs a matching statement.

    ``moment`` is (SQLAlchemy cursor event, statement prefix). The session
    is killed from another connection, as a server restart or a network
    failure would end it: what it runs next fails for real.
    """
    event_name, statement_prefix = moment
    admin = sa.create_engine(admin_url, isolation_level='AUTOCOMMIT')
    killed = []

    def kill(conn, cursor, statement, parameters, context, executemany):
        if killed or not statement.startswith(statement_prefix):
            return
        find_session, kill_session = KILL[conn.dialect.name]
        # A cursor of its own: the statement's results stay unread.
        own_cursor = cursor.connection.cursor()
        own_cursor.execute(find_session)
        session_id = own_cursor.fetchone()[0]
        own_cursor.close()
        with admin.connect() as admin_conn:
            admin_conn.exec_driver_sql(kill_session % session_id)
        killed.append(session_id)

    sa.event.listen(sa.engine.Engine, event_name, kill)
    try:
        yield killed
    finally:
        sa.event.remove(sa.engine.Engine, event_name, kill)
        admin.dispose()


@pytest.mark.parametrize('engine_name', ['postgresql', 'mysql'])
def test_lost_connection_mid_batch_commits_nothing(engine_name, tmp_path):
    with conftest.temporary_database(engine_name, str(tmp_path)) as url:
        conn = storage.get_connection(conftest.make_conf(url), url)
        conn.upgrade()
        conn.record_events([test_storage.make_event(0)])
        batch = [test_storage.make_event(n) for n in range(1, 6)]

        with connection_killed_at(MID_BATCH[engine_name],
                                      conftest.SERVER_URLS[engine_name]
                                      ) as killed:
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
    with conftest.temporary_database(engine_name, str(tmp_path)) as url:
        writers = [storage.get_connection(conftest.make_conf(url), url)
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
    conf = conftest.make_conf('postgresql://nobody@127.0.0.1:1/none',
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
        storage.get_connection(conftest.make_conf(), 'hbase://localhost')


@pytest.mark.parametrize('engine_name', ['postgresql', 'mysql'])
def test_one_connection_shared_by_threads(engine_name, tmp_path):
    """Writers in threads of one process, while the expirer runs."""
    with conftest.temporary_database(engine_name, str(tmp_path)) as url:
        conn = storage.get_connection(conftest.make_conf(url), url)
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
