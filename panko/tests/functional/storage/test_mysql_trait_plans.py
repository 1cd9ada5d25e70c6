"""MySQL/MariaDB: trait filters that match many rows are probed.

panko.storage.sqlalchemy.mysql: the page is read in index order and each
event's trait probed when every trait filter matches DENSE_TRAIT_ROWS
rows or more; otherwise the matching rows are collected. Both plans must
give the same page, and the session's optimizer switch must not outlive
the query.
"""

import hypothesis
from hypothesis import strategies as st
import pytest
import sqlalchemy as sa

from panko import storage
from panko.storage import models
from panko.storage.sqlalchemy import mysql
from panko.tests import backends
from panko.tests.functional.storage import test_storage

EVENTS = [test_storage.make_event(n) for n in range(40)]


@pytest.fixture(scope='module')
def store(tmp_path_factory):
    """40 events on MariaDB, memory_mb = 512 * n for msg-0nn."""
    with backends.temporary_database(
            'mysql', str(tmp_path_factory.mktemp('db'))) as url:
        connection = storage.get_connection(backends.make_conf(url), url)
        connection.upgrade()
        assert len(connection.record_events(EVENTS).stored) == len(EVENTS)
        yield connection


@pytest.fixture
def statements(store):
    seen = []

    def remember(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(store.engine, 'before_cursor_execute', remember)
    yield seen
    sa.event.remove(store.engine, 'before_cursor_execute', remember)


def page(store, *traits, limit=5):
    found = store.get_events(
        models.EventFilter(traits_filter=[
            models.TraitFilter(name, value, models.Trait.INT_TYPE, op)
            for name, op, value in traits]),
        models.Pagination(limit=limit))
    return [event.message_id for event in found]


def expected(*traits, limit=5):
    ops = {'lt': int.__lt__, 'le': int.__le__, 'eq': int.__eq__,
           'ne': int.__ne__, 'ge': int.__ge__, 'gt': int.__gt__}
    memory = {event.message_id: trait.value for event in EVENTS
              for trait in event.traits if trait.name == 'memory_mb'}
    return [mid for mid in sorted(memory)
            if all(ops[op](memory[mid], value) for _, op, value in traits)
            ][:limit]


def probed(statements):
    return any('optimizer_switch' in s and 'semijoin=off' in s
               for s in statements)


def session_switch(store):
    with store.engine.connect() as conn:
        return conn.exec_driver_sql(
            'SELECT @@SESSION.optimizer_switch = @@GLOBAL.optimizer_switch'
        ).scalar()


def test_a_dense_filter_is_probed_and_the_switch_reset(
        store, statements, monkeypatch):
    monkeypatch.setattr(mysql, 'DENSE_TRAIT_ROWS', 10)
    assert page(store, ('memory_mb', 'gt', 4096)) == [
        'msg-009', 'msg-010', 'msg-011', 'msg-012', 'msg-013']
    assert probed(statements)
    assert session_switch(store) == 1


def test_a_sparse_filter_is_collected(store, statements, monkeypatch):
    monkeypatch.setattr(mysql, 'DENSE_TRAIT_ROWS', 10)
    assert page(store, ('memory_mb', 'ge', 512 * 36)) == [
        'msg-036', 'msg-037', 'msg-038', 'msg-039']
    assert not probed(statements)


def test_probed_only_when_every_trait_filter_is_dense(
        store, statements, monkeypatch):
    monkeypatch.setattr(mysql, 'DENSE_TRAIT_ROWS', 15)
    # 31 rows match the first filter, 12 the second.
    traits = (('memory_mb', 'gt', 4096), ('memory_mb', 'lt', 512 * 12))
    assert page(store, *traits) == ['msg-009', 'msg-010', 'msg-011']
    assert not probed(statements)


def test_a_failed_probed_query_discards_its_connection(
        store, monkeypatch):
    monkeypatch.setattr(mysql, 'DENSE_TRAIT_ROWS', 1)
    with store.engine.connect() as conn:
        with pytest.raises(sa.exc.ProgrammingError):
            with mysql.probing_traits(conn):
                conn.exec_driver_sql('SELECT * FROM no_such_table')
        assert conn.invalidated
    assert session_switch(store) == 1


@hypothesis.settings(max_examples=40, deadline=None,
                     suppress_health_check=[
                         hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(
    traits=st.lists(st.tuples(
        st.just('memory_mb'),
        st.sampled_from(['lt', 'le', 'eq', 'ne', 'ge', 'gt']),
        st.integers(-1, 512 * 41)), min_size=1, max_size=3),
    threshold=st.sampled_from([1, 5, 25, 10 ** 6]),
    limit=st.integers(1, 45))
def test_both_plans_give_the_page_the_filters_describe(
        store, traits, threshold, limit):
    original = mysql.DENSE_TRAIT_ROWS
    mysql.DENSE_TRAIT_ROWS = threshold
    try:
        assert page(store, *traits, limit=limit) == expected(
            *traits, limit=limit)
    finally:
        mysql.DENSE_TRAIT_ROWS = original
    assert session_switch(store) == 1
