"""Reads from ``[database] slave_connection``, on a real streaming replica.

The API is configured with the test database on the PostgreSQL server as
its primary and the same database on a hot standby of that server
(panko.tests.replica) as its replica. Pausing the standby's replay shows
where each request goes: what is written to the primary meanwhile is
not read until replay resumes.
"""

import contextlib
import json
import logging

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from oslo_config import cfg
import pytest
import sqlalchemy as sa
import webtest

from panko import service
from panko import storage
from panko.api import app
from panko.storage import models
from panko.tests import backends
from panko.tests import contract
from panko.tests.functional.api import data
from panko.tests.functional.api.data import ADMIN
from panko.tests.functional.api.data import ids
from panko.tests.functional.storage.test_sql_migrations import run_command

SERVICE = {'X-User-Id': 'ceilometer', 'X-Project-Id': 'service',
           'X-Roles': 'service', 'Content-Type': 'application/json'}
#: A URL where no database answers.
NOWHERE = 'postgresql://root@127.0.0.1:1/panko'


@pytest.fixture(scope='module')
def urls(pg_replica, tmp_path_factory):
    """(primary, replica) URLs of one migrated database."""
    with backends.temporary_database(
            'postgresql', str(tmp_path_factory.mktemp('replica'))) as url:
        storage.get_connection(backends.make_conf(url), url).upgrade()
        pg_replica.caught_up()
        yield url, pg_replica.url_of(url)


@pytest.fixture
def primary(urls, pg_replica):
    """The primary's store, emptied, with the replica caught up."""
    connection = storage.get_connection(backends.make_conf(urls[0]), urls[0])
    connection.clear()
    pg_replica.caught_up()
    yield connection
    connection.engine.dispose()


def conf_of(primary_url, replica_url, **options):
    return backends.make_conf(primary_url, api__auth_mode='noauth',
                              database__slave_connection=replica_url,
                              **options)


def logging_conf(primary_url, replica_url):
    """conf_of(), for a test that reads the log with caplog.

    Not prepare_service() (nor make_conf()): its logging set-up would
    drop caplog's handler.
    """
    conf = cfg.ConfigOpts()
    service.register_options(conf)
    conf([], project='panko', default_config_files=[])
    for group, option, value in [('database', 'connection', primary_url),
                                 ('database', 'slave_connection',
                                  replica_url),
                                 ('api', 'auth_mode', 'noauth')]:
        conf.set_override(option, value, group)
    return conf


def api_of(primary_url, replica_url, **options):
    return webtest.TestApp(app.load_app(
        conf_of(primary_url, replica_url, **options)))


@pytest.fixture(scope='module')
def api(urls):
    return api_of(*urls)


def record(connection, *rows):
    events = [data.make_event(*row) for row in rows]
    assert len(connection.record_events(events).stored) == len(events)


UPDATE = data.LAYOUT[0]
DELETE = data.LAYOUT[1]


def event_types(api):
    return api.get('/v2/event_types', headers=ADMIN).json


def test_reads_come_from_the_replica(api, primary, pg_replica):
    record(primary, UPDATE)
    pg_replica.caught_up()
    assert ids(api.get('/v2/events', headers=ADMIN)) == ['msg-00']
    with pg_replica.paused():
        record(primary, DELETE)
        assert ids(api.get('/v2/events', headers=ADMIN)) == ['msg-00']
        api.get('/v2/events/msg-01', headers=ADMIN, status=404)
        assert event_types(api) == ['compute.instance.update']
        assert api.get('/v2/event_types/compute.instance.delete.end/traits',
                       headers=ADMIN).json == []
    pg_replica.caught_up()
    assert ids(api.get('/v2/events', headers=ADMIN)) == ['msg-00', 'msg-01']
    assert api.get('/v2/events/msg-01', headers=ADMIN).json['event_type'] == (
        'compute.instance.delete.end')
    assert event_types(api) == ['compute.instance.delete.end',
                                'compute.instance.update']
    traits = api.get('/v2/event_types/compute.instance.delete.end/traits/'
                     'memory_mb', headers=ADMIN).json
    assert traits == [{'name': 'memory_mb', 'type': 'integer',
                       'value': '512'}]


def test_posts_go_to_the_primary(api, primary, pg_replica):
    [event] = contract.fixture_events('event_sample_unsigned')[:1]
    mid = event['message_id']
    with pg_replica.paused():
        response = api.post('/v2/events', json.dumps([event]),
                            headers=SERVICE, status=201)
        assert response.json['stored'] == 1
        assert [e.message_id for e in primary.get_events(
            models.EventFilter(message_id=mid))] == [mid]
        api.get('/v2/events/%s?all_tenants=True' % mid, headers=ADMIN,
                status=404)
    pg_replica.caught_up()
    api.get('/v2/events/%s?all_tenants=True' % mid, headers=ADMIN)


def test_query_timeout_holds_on_the_replica(urls, primary, pg_replica):
    """A read the replica keeps waiting is cut by [api] query_timeout.

    A lock the primary holds is replayed on the standby, where it blocks
    the API's read of the table until the primary's transaction ends.
    """
    api = api_of(*urls, api__query_timeout=0.5)
    record(primary, UPDATE)
    pg_replica.caught_up()
    with primary.engine.connect() as locker:
        locker.execute(sa.text('LOCK TABLE event IN ACCESS EXCLUSIVE MODE'))
        pg_replica.caught_up()
        response = api.get('/v2/events', headers=ADMIN, status=503)
        locker.rollback()
    assert response.json['error_message']['faultstring'] == (
        'The query took longer than [api] query_timeout (0.5 seconds) '
        'allows; narrow it with filters or a smaller limit')
    pg_replica.caught_up()
    assert ids(api.get('/v2/events', headers=ADMIN)) == ['msg-00']


def test_unreachable_replica_answers_503_and_posts_still_work(
        urls, primary, caplog):
    conf = logging_conf(urls[0], NOWHERE)
    with caplog.at_level(logging.WARNING):
        api = webtest.TestApp(app.load_app(conf))
        response = api.get('/v2/events', headers=ADMIN, status=503)
    assert response.json['error_message']['faultstring'] == (
        'The event store is unavailable; retry later.')
    assert any(message.startswith(
        'The read replica ([database] slave_connection) is unreachable, '
        'reads fail until it answers: read replica unavailable: ')
        for message in caplog.messages), caplog.messages
    assert any(message.startswith('Answering 503: read replica unavailable')
               for message in caplog.messages), caplog.messages
    api.get('/v2/event_types', headers=ADMIN, status=503)
    [event] = contract.fixture_events('event_sample_unsigned')[:1]
    api.post('/v2/events', json.dumps([event]), headers=SERVICE, status=201)
    assert len(primary.get_events(models.EventFilter())) == 1


def test_commands_use_the_primary_only(tmp_path):
    """dbsync, the expirer and panko-dead-letters never try the replica.

    Were they to, the API's warning about an unreachable replica would be
    in their output.
    """
    with backends.temporary_database('postgresql', str(tmp_path)) as url:
        for command, args, options in [
                ('panko-dbsync', (), {}),
                ('panko-expirer', (), {'event_time_to_live': 60}),
                ('panko-dead-letters', ('list',), {})]:
            result = run_command(command, url, *args,
                                 directory=str(tmp_path),
                                 slave_connection=NOWHERE, **options)
            assert result.returncode == 0, result.stderr
            assert 'replica' not in result.stdout + result.stderr


def test_replica_of_another_kind_is_refused(tmp_path):
    with pytest.raises(storage.StorageError,
                       match='slave_connection is a postgresql URL, but '
                             'connection a sqlite one'):
        api_of('sqlite:///%s' % (tmp_path / 'panko.db'), NOWHERE)


@pytest.mark.parametrize('driver', ['mongodb', 'log'])
def test_other_drivers_ignore_the_replica_with_one_warning(driver, caplog):
    with contextlib.ExitStack() as stack:
        url = 'log://'
        if driver == 'mongodb':
            url = stack.enter_context(backends.temporary_mongodb())
        conf = logging_conf(url, 'mongodb://elsewhere.invalid/panko')
        with caplog.at_level(logging.WARNING):
            storage.get_connection_from_config(conf, replica=True)
    assert caplog.messages == [
        '[database] slave_connection is ignored: the %s storage driver '
        'reads from [database] connection only' % driver]


@pytest.fixture(scope='module')
def sqlite_conf(tmp_path_factory):
    directory = tmp_path_factory.mktemp('garbage')
    return backends.make_conf('sqlite:///%s' % (directory / 'panko.db'))


@settings(max_examples=200, deadline=None)
@given(scheme=st.sampled_from(['', 'postgresql://', 'mysql://', 'mongodb://',
                               'log://', 'nosuchdb://']),
       rest=st.text().filter(lambda text: '$' not in text))
def test_any_replica_url_is_used_or_refused_cleanly(sqlite_conf, scheme,
                                                     rest):
    """Whatever the operator writes: a StorageError naming the option.

    The primary is SQLite, so that no URL generated here is of its kind,
    nor tried over the network; only an empty one, meaning no replica,
    connects. ``$`` is oslo.config's interpolation, which it refuses
    before panko reads the option.
    """
    sqlite_conf.set_override('slave_connection', scheme + rest, 'database')
    if not scheme + rest:
        storage.get_connection_from_config(sqlite_conf, replica=True)
        return
    with pytest.raises(storage.StorageError, match='slave_connection'):
        storage.get_connection_from_config(sqlite_conf, replica=True)
