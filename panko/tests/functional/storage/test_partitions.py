"""PostgreSQL's time partitions: creation, duplicates, races, expiry.

The storage suite runs whole on a partitioned PostgreSQL database too
(``postgresql-partitioned`` in panko.tests.backends); these tests check
what only the partitioned layout does.
"""

import datetime
import threading
import time

import hypothesis
from hypothesis import strategies as st
from oslo_utils import timeutils
import pytest
import sqlalchemy as sa

from panko import storage
from panko.storage import models
from panko.storage.sqlalchemy import partitions
from panko.tests import backends
from panko.tests.functional.storage import test_sql_migrations as migrations

T = models.Trait
DAY = datetime.timedelta(days=1)


@pytest.fixture
def pg_url(tmp_path):
    with backends.temporary_database('postgresql', str(tmp_path)) as url:
        yield url


def connect(url, **overrides):
    return storage.get_connection(backends.make_conf(url, **overrides), url)


@pytest.fixture
def store(pg_url):
    """A new PostgreSQL database that dbsync partitioned by day."""
    connection = connect(pg_url, database__partitioning='auto')
    connection.upgrade()
    yield connection
    connection.engine.dispose()


def event(number, generated, message_id=None):
    return models.Event(
        message_id=message_id or 'msg-%d' % number,
        event_type='compute.instance.update', generated=generated,
        traits=[T('project_id', T.TEXT_TYPE, 'p1'),
                T('n', T.INT_TYPE, number)],
        raw={'n': number})


def partition_starts(connection):
    with connection.engine.connect() as conn:
        return set(partitions.attached(conn))


def relkinds(connection):
    with connection.engine.connect() as conn:
        return dict(conn.execute(sa.text(
            'SELECT relname, relkind FROM pg_class WHERE relname = ANY(:n)'),
            {'n': list(partitions.TABLES)}).all())


def stored(connection):
    """The message_ids stored, oldest first."""
    return [e.message_id for e in connection.get_events(
        models.EventFilter())]


class TestDbsync:

    def test_new_database_is_partitioned_ahead(self, store):
        assert store.partition_width == 86400
        assert set(relkinds(store).values()) == {'p'}
        today = partitions.start_of(timeutils.utcnow(), 86400)
        assert {today - DAY, today, today + DAY,
                today + 2 * DAY} <= partition_starts(store)

    def test_width_is_an_option_fixed_by_the_database(self, pg_url):
        hourly = connect(pg_url, database__partitioning='auto',
                         database__partition_width=1)
        hourly.upgrade()
        assert hourly.partition_width == 3600
        # Another width later changes nothing: the database keeps its own.
        daily = connect(pg_url, database__partitioning='auto')
        daily.upgrade()
        assert daily.partition_width == 3600
        assert len(partition_starts(daily)) >= 48
        for connection in (hourly, daily):
            connection.engine.dispose()

    def test_off_by_default(self, pg_url):
        connection = connect(pg_url)
        connection.upgrade()
        assert connection.partition_width is None
        assert set(relkinds(connection).values()) == {'r'}
        connection.engine.dispose()

    def test_a_database_holding_events_keeps_its_layout(self, pg_url):
        connection = connect(pg_url)
        connection.upgrade()
        connection.record_events([event(1, timeutils.utcnow())])
        again = connect(pg_url, database__partitioning='auto')
        again.upgrade()
        assert again.partition_width is None
        assert stored(again) == ['msg-1']
        for each in (connection, again):
            each.engine.dispose()

    def test_panko10_database_is_adopted_unpartitioned(self, pg_url,
                                                       tmp_path):
        engine = sa.create_engine(pg_url)
        events = migrations.panko10_events()
        with engine.begin() as conn:
            migrations.create_panko10_schema(conn)
            migrations.fill_panko10(conn, events)
        engine.dispose()
        result = migrations.run_command(
            'panko-dbsync', pg_url, directory=str(tmp_path),
            partitioning='auto')
        assert result.returncode == 0, result.stderr
        connection = connect(pg_url)
        assert connection.partition_width is None
        assert connection.get_events(models.EventFilter()) == events
        connection.engine.dispose()

    def test_dbsync_partitions_a_new_database(self, pg_url, tmp_path):
        result = migrations.run_command(
            'panko-dbsync', pg_url, directory=str(tmp_path),
            partitioning='auto', partition_width='6')
        assert result.returncode == 0, result.stderr
        connection = connect(pg_url)
        assert connection.partition_width == 6 * 3600
        connection.engine.dispose()

    def test_other_engines_ignore_it(self, tmp_path):
        url = 'sqlite:///%s' % (tmp_path / 'panko.db')
        connection = connect(url, database__partitioning='auto')
        connection.upgrade()
        assert connection.partition_width is None
        connection.record_events([event(1, timeutils.utcnow())])
        assert stored(connection) == ['msg-1']


class TestWrites:

    def test_late_and_early_events_get_partitions(self, store):
        now = timeutils.utcnow()
        times = [models.MIN_DATETIME, datetime.datetime(1970, 1, 1),
                 now - 400 * DAY, now + 30 * DAY,
                 datetime.datetime(9999, 12, 31, 23, 59, 59, 999999)]
        result = store.record_events(
            [event(n, when) for n, when in enumerate(times)])
        assert len(result.stored) == 5
        assert stored(store) == ['msg-%d' % n for n in range(5)]
        for n, when in enumerate(times):
            [found] = store.get_events(models.EventFilter(
                message_id='msg-%d' % n))
            assert found.generated == when
            assert found.traits[0] == T('n', T.INT_TYPE, n)
        assert {partitions.start_of(when, 86400) for when in times
                } <= partition_starts(store)

    def test_a_redelivery_is_stored_once(self, store):
        when = timeutils.utcnow() - 3 * DAY
        first = store.record_events([event(1, when)])
        again = store.record_events([event(1, when), event(2, when)])
        assert first.stored == ['msg-1']
        assert again.duplicates == ['msg-1']
        assert again.stored == ['msg-2']
        with store.engine.connect() as conn:
            assert conn.scalar(sa.text(
                "SELECT count(*) FROM event WHERE message_id = 'msg-1'")) == 1

    def test_a_redelivery_racing_the_first_is_stored_once(self, store,
                                                          pg_url):
        """The unique key (message_id, generated) refuses the loser."""
        other = connect(pg_url)
        when = timeutils.utcnow()
        outcomes = race([lambda: store.record_events([event(1, when)]),
                         lambda: other.record_events([event(1, when)])])
        assert sorted(len(o.stored) for o in outcomes) == [0, 1]
        assert stored(store) == ['msg-1']
        other.engine.dispose()

    def test_writers_racing_for_a_new_partition(self, store, pg_url):
        others = [connect(pg_url) for _ in range(3)]
        when = timeutils.utcnow() + 100 * DAY
        writers = [store] + others
        outcomes = race([
            (lambda w=w, n=n: w.record_events([event(n, when)]))
            for n, w in enumerate(writers)])
        assert all(len(o.stored) == 1 for o in outcomes)
        assert len(stored(store)) == 4
        assert partitions.start_of(when, 86400) in partition_starts(store)
        for other in others:
            other.engine.dispose()

    def test_a_partition_dropped_meanwhile_is_created_again(self, store):
        when = timeutils.utcnow() - 10 * DAY
        store.record_events([event(1, when)])
        store.clear_expired_data(5 * 86400)
        assert partitions.start_of(when, 86400) not in partition_starts(
            store)
        # This connection still believes the partition exists.
        store._partition_starts.add(partitions.start_of(when, 86400))
        assert store.record_events([event(2, when)]).stored == ['msg-2']

    @hypothesis.settings(max_examples=30, deadline=None, database=None,
                         suppress_health_check=[
                             hypothesis.HealthCheck.function_scoped_fixture])
    @hypothesis.given(times=st.lists(
        st.datetimes(min_value=models.MIN_DATETIME), min_size=1, max_size=5))
    def test_any_time_is_stored(self, store, times):
        store.clear()
        result = store.record_events(
            [event(n, when) for n, when in enumerate(times)])
        assert len(result.stored) == len(times)
        for n, when in enumerate(times):
            [found] = store.get_events(models.EventFilter(
                message_id='msg-%d' % n))
            assert found.generated == when


def race(actions):
    """Run the actions in threads started together; return their results."""
    barrier = threading.Barrier(len(actions))
    results, failures = [None] * len(actions), []

    def run(number, action):
        barrier.wait()
        try:
            results[number] = action()
        except Exception as e:  # reported below
            failures.append(e)

    threads = [threading.Thread(target=run, args=pair)
               for pair in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    return results


class TestExpiry:

    def test_whole_partitions_are_dropped(self, store):
        now = timeutils.utcnow()
        old = [event(n, now - (3 + n) * DAY) for n in range(3)]
        boundary = event(10, now - DAY - datetime.timedelta(seconds=1))
        recent = event(11, now - datetime.timedelta(hours=1))
        store.record_events(old + [boundary, recent])
        before = partition_starts(store)
        # max_count bounds the rows deleted one by one, not the drops.
        assert store.clear_expired_data(86400, max_count=1) == 4
        assert stored(store) == ['msg-11']
        cutoff = now - DAY
        gone = {start for start in before if start + DAY <= cutoff}
        assert {partitions.start_of(e.generated, 86400) for e in old} <= gone
        assert partition_starts(store) == before - gone
        with store.engine.connect() as conn:
            tables = set(conn.execute(sa.text(
                "SELECT relname FROM pg_class WHERE relname ~ '_p[0-9]+$' "
                "AND relkind = 'r'")).scalars())
        assert all(partitions._name(table, start) not in tables
                   for start in gone for table in partitions.TABLES)
        # A trait of each table of the boundary event went with it.
        with store.engine.connect() as conn:
            assert conn.scalar(sa.text(
                'SELECT count(*) FROM trait_int')) == 1

    def test_a_run_left_half_way_is_completed(self, store):
        old = timeutils.utcnow() - 5 * DAY
        start = partitions.start_of(old, 86400)
        store.record_events([event(1, old), event(2, old)])
        with store.engine.connect() as conn:
            conn = conn.execution_options(isolation_level='AUTOCOMMIT')
            conn.execute(sa.text('ALTER TABLE event DETACH PARTITION %s'
                                 % partitions._name('event', start)))
        assert stored(store) == []
        # The detached table's events are counted when it is dropped.
        assert store.clear_expired_data(86400) == 2
        with store.engine.connect() as conn:
            assert conn.scalar(sa.text(
                'SELECT to_regclass(:name)'),
                {'name': partitions._name('event', start)}) is None


@hypothesis.given(when=st.datetimes(), hours=st.integers(1, 24 * 31))
def test_a_time_falls_in_its_partition(when, hours):
    start = partitions.start_of(when, hours * 3600)
    assert start <= when
    assert start.minute == start.second == start.microsecond == 0
    if when < datetime.datetime.max - datetime.timedelta(hours=hours):
        assert when < start + datetime.timedelta(hours=hours)


def test_dropping_never_queues_readers_behind_it(store):
    """The DROP's lock on event_type is tried in short attempts.

    A session holds event_type (as a long query would) while the expirer
    drops a partition: readers that come meanwhile are not queued behind
    the DROP's ACCESS EXCLUSIVE request for longer than an attempt.
    """
    store.record_events([event(1, timeutils.utcnow() - 5 * DAY)])
    holding, done = threading.Event(), threading.Event()

    def hold():
        with store.engine.connect() as conn:
            conn.execute(sa.text(
                'LOCK TABLE event_type IN ACCESS SHARE MODE'))
            holding.set()
            time.sleep(1)
            conn.rollback()

    def expire():
        holding.wait()
        try:
            assert store.clear_expired_data(86400) == 1
        finally:
            done.set()

    threads = [threading.Thread(target=hold), threading.Thread(target=expire)]
    for thread in threads:
        thread.start()
    holding.wait()
    reads = 0
    with store.engine.connect() as conn:
        conn.execute(sa.text("SET lock_timeout = '%dms'"
                             % (5 * partitions.DROP_LOCK_TIMEOUT_MS)))
        conn.commit()
        while not done.is_set():
            conn.execute(sa.text('SELECT count(*) FROM event_type')).all()
            conn.rollback()
            reads += 1
            time.sleep(0.01)
    for thread in threads:
        thread.join()
    assert reads > 10
    assert stored(store) == []
