"""What the MongoDB driver does beyond the shared storage scenarios.

Runs on mongomock, or on the server named by PANKO_TEST_MONGODB_URL.
"""

import datetime
import socket
import sys

from oslo_utils import timeutils
import pymongo
import pytest

from panko import storage
from panko.cmd import storage as storage_cmd
from panko.storage import impl_mongodb
from panko.storage import models
from panko.tests import backends
from panko.tests.functional.storage.test_storage import START
from panko.tests.functional.storage.test_storage import make_event
from panko.tests.functional.storage.test_storage import query

T = models.Trait


@pytest.fixture
def url():
    with backends.temporary_mongodb() as database_url:
        yield database_url


@pytest.fixture
def database(url):
    """The database itself, to look at what the driver left there."""
    client = pymongo.MongoClient(url)
    yield client.get_default_database()
    client.close()


def connect(url, **overrides):
    connection = storage.get_connection(backends.make_conf(url, **overrides),
                                        url)
    connection.upgrade()
    return connection


def index_keys(collection):
    return {name: [tuple(key) for key in index['key']]
            for name, index in collection.index_information().items()}


class TestSchema:

    def test_upgrade_creates_the_indexes_and_can_run_again(
            self, url, database):
        connection = connect(url)
        connection.upgrade()
        events = index_keys(database['event'])
        assert events['event_generated'] == [('generated', 1), ('_id', 1)]
        assert events['event_type_generated'] == [
            ('event_type', 1), ('generated', 1), ('_id', 1)]
        assert events['event_project_generated'] == [
            ('project_id', 1), ('generated', 1), ('_id', 1)]
        assert events['event_traits'] == [
            ('traits.n', 1), ('traits.t', 1), ('traits.v', 1)]
        assert impl_mongodb.TTL_INDEX not in events
        trait_types = database['trait_type'].index_information()
        assert trait_types['trait_type_key']['unique']
        assert index_keys(database['dead_letter'])['dead_letter_door'] == [
            ('door', 1), ('_id', 1)]

    def test_events_in_a_foreign_layout_stop_the_upgrade(
            self, url, database):
        database['event'].insert_one({
            '_id': 'old-1', 'event_type': 'compute.instance.update',
            'timestamp': START, 'traits': []})
        with pytest.raises(storage.StorageError, match='old-1'):
            connect(url)
        assert 'event_traits' not in database['event'].index_information()

    def test_dbsync_command_creates_the_ttl_index(
            self, url, database, tmp_path, monkeypatch):
        config = tmp_path / 'panko.conf'
        config.write_text('[database]\nconnection = %s\n'
                          'event_time_to_live = 3600\n' % url)
        monkeypatch.setattr(sys, 'argv',
                            ['panko-dbsync', '--config-file', str(config)])
        storage_cmd.dbsync()
        ttl = database['event'].index_information()[impl_mongodb.TTL_INDEX]
        assert [tuple(key) for key in ttl['key']] == [('generated_date', 1)]
        assert ttl['expireAfterSeconds'] == 3600

    def test_a_ttl_of_zero_or_less_removes_the_ttl_index(
            self, url, database):
        connect(url, database__event_time_to_live=3600)
        assert impl_mongodb.TTL_INDEX in database['event'].index_information()
        connect(url, database__event_time_to_live=0)
        assert (impl_mongodb.TTL_INDEX
                not in database['event'].index_information())

    def test_a_changed_ttl_updates_the_index_in_place(self, url, database):
        backends.requires_mongodb_server(
            'a changed TTL is applied with the collMod command, which '
            'mongomock does not implement; rebuilding the index instead '
            'would rescan every event')
        connect(url, database__event_time_to_live=3600)
        connect(url, database__event_time_to_live=7200)
        ttl = database['event'].index_information()[impl_mongodb.TTL_INDEX]
        assert ttl['expireAfterSeconds'] == 7200

    def test_a_ttl_the_index_does_not_apply_yet_is_reported(
            self, url, capsys):
        # oslo.log writes to the stream it finds when each command (here,
        # make_conf) sets it up: standard output.
        connect(url, database__event_time_to_live=3600)
        capsys.readouterr()
        storage.get_connection(backends.make_conf(
            url, database__event_time_to_live=60), url)
        assert ('event_time_to_live is 60 but the TTL index expires events '
                'after 3600 seconds: run panko-dbsync'
                in capsys.readouterr().out)
        connect(url, database__event_time_to_live=3600)
        assert 'panko-dbsync' not in capsys.readouterr().out

    def test_every_document_carries_the_date_the_ttl_reads(
            self, url, database):
        generated = datetime.datetime(2026, 3, 1, 12, 0, 0, 123456)
        connect(url).record_events([make_event(1, generated=generated)])
        document = database['event'].find_one({'_id': 'msg-001'})
        assert (abs(document['generated_date'].replace(tzinfo=None)
                    - generated) < datetime.timedelta(milliseconds=1))
        assert document['project_id'] == 'p1'
        assert document['user_id'] == 'u1'


class TestDocuments:

    def test_raw_json_is_kept_exactly(self, url):
        raw = {'a.b': 1, '$set': {'x': 2 ** 70}, 'nested': [None, 1.5]}
        connection = connect(url)
        connection.record_events([make_event(1, raw=raw)])
        [stored] = connection.get_events(models.EventFilter())
        assert stored.raw == raw

    def test_datetime_traits_keep_microseconds(self, url):
        first = START.replace(microsecond=1)
        connection = connect(url)
        connection.record_events([
            make_event(n, traits=[T('at', T.DATETIME_TYPE, first + delta)])
            for n, delta in enumerate([datetime.timedelta(0),
                                       datetime.timedelta(microseconds=1)])])
        assert query(connection, traits_filter=[
            models.TraitFilter('at', first, T.DATETIME_TYPE, 'gt')]) == [
            'msg-001']
        stored = connection.get_events(models.EventFilter())
        assert [event.trait('at').value for event in stored] == [
            first, first + datetime.timedelta(microseconds=1)]

    def test_an_event_over_the_document_limit_is_rejected(self, url):
        huge = make_event(2, raw={'payload': 'z' * (17 * 1024 * 1024)})
        connection = connect(url)
        result = connection.record_events(
            [make_event(1), huge, make_event(3)])
        assert result.stored == ['msg-001', 'msg-003']
        [(message_id, why)] = result.rejected
        assert message_id == 'msg-002'
        assert 'limit' in why


class TestDeadLetterDocuments:

    def test_ids_count_up_from_a_counter_and_payloads_are_text(
            self, url, database):
        connection = connect(url)
        connection.record_dead_letters([
            models.DeadLetter('dispatcher', 'event', 'r', {'$where': 1}),
            models.DeadLetter('api', 'event', 'r', {'a.b': 2})])
        connection.record_dead_letters([
            models.DeadLetter('api', 'message', 'r', 'text')])
        documents = list(database['dead_letter'].find(sort=[('_id', 1)]))
        assert [document['_id'] for document in documents] == [1, 2, 3]
        assert [document['payload'] for document in documents] == [
            '{"$where": 1}', '{"a.b": 2}', '"text"']
        assert isinstance(documents[0]['created_at'], int)
        assert database['counter'].find_one(
            {'_id': 'dead_letter'})['last'] == 3


class TestConcurrentWriters:

    def test_a_second_writer_sees_duplicates_and_known_trait_types(
            self, url):
        first = connect(url)
        first.record_events([make_event(1), make_event(2)])
        second = connect(url)
        result = second.record_events([
            make_event(2), make_event(3, traits=[
                T('state', T.TEXT_TYPE, 'active')])])
        assert result.stored == ['msg-003']
        assert result.duplicates == ['msg-002']
        names = [trait_type['name'] for trait_type in
                 first.get_trait_types('compute.instance.update')]
        assert names == ['instance_id', 'launched_at', 'load', 'memory_mb',
                         'project_id', 'state', 'user_id']


class TestRetention:

    def test_trait_types_of_types_the_ttl_emptied_are_hidden(
            self, url, database):
        connection = connect(url)
        connection.record_events([make_event(1, event_type='gone')])
        # What the server's TTL monitor does: delete the documents.
        database['event'].delete_many({})
        assert connection.get_trait_types('gone') == []
        assert connection.get_event_types() == []

    def test_with_retention_rules_dbsync_drops_the_ttl_index(
            self, url, database, tmp_path):
        connect(url, database__event_time_to_live=3600)
        rules = tmp_path / 'rules.yaml'
        rules.write_text('rules: [{event_type: a.*, ttl: forever}]\n')
        connect(url, database__event_time_to_live=3600,
                database__retention_rules_file=str(rules))
        assert (impl_mongodb.TTL_INDEX
                not in database['event'].index_information())
        # Without the rules, the TTL index serves the global TTL again.
        connect(url, database__event_time_to_live=3600)
        assert impl_mongodb.TTL_INDEX in database['event'].index_information()

    def test_a_ttl_index_left_beside_retention_rules_is_reported(
            self, url, capsys, tmp_path):
        connect(url, database__event_time_to_live=3600)
        capsys.readouterr()
        rules = tmp_path / 'rules.yaml'
        rules.write_text('rules: [{event_type: a.*, ttl: forever}]\n')
        storage.get_connection(backends.make_conf(
            url, database__event_time_to_live=3600,
            database__retention_rules_file=str(rules)), url)
        assert ('retention_rules_file is set but the TTL index expires '
                'every event after 3600 seconds: run panko-dbsync to drop '
                'it' in capsys.readouterr().out)

    def test_expirer_command_deletes_old_events(
            self, url, tmp_path, monkeypatch):
        connection = connect(url)
        now = timeutils.utcnow()
        connection.record_events([
            make_event(1, generated=now - datetime.timedelta(days=3)),
            make_event(2, generated=now - datetime.timedelta(hours=3))])
        config = tmp_path / 'panko.conf'
        config.write_text('[database]\nconnection = %s\n'
                          'event_time_to_live = 86400\n' % url)
        monkeypatch.setattr(sys, 'argv',
                            ['panko-expirer', '--config-file', str(config)])
        storage_cmd.expirer()
        assert query(connection) == ['msg-002']


class TestFailures:

    @pytest.fixture
    def closed_port(self):
        with socket.socket() as listener:
            listener.bind(('127.0.0.1', 0))
            return listener.getsockname()[1]

    def test_an_unreachable_server_is_storage_unavailable(self, closed_port):
        url = ('mongodb://127.0.0.1:%d/panko?serverSelectionTimeoutMS=200'
               % closed_port)
        conf = backends.make_conf(url, storage__max_retries=1,
                                  storage__retry_interval=0)
        with pytest.raises(storage.StorageUnavailable):
            storage.get_connection_from_config(conf)

    @pytest.mark.parametrize('url', ['mongodb:///panko',
                                     'mongodb://127.0.0.1:99999/panko',
                                     'mongodb://127.0.0.1/bad name'])
    def test_a_bad_url_is_an_error_not_a_retry(self, url):
        with pytest.raises(storage.StorageError) as caught:
            storage.get_connection(backends.make_conf(), url)
        assert not isinstance(caught.value, storage.StorageUnavailable)


class TestIndexUse:

    @pytest.fixture
    def profiled(self, url, database):
        backends.requires_mongodb_server(
            'index use is read from the server\'s profiler, which '
            'mongomock does not have')
        connection = connect(url)
        connection.record_events([
            make_event(n, project='p%d' % (n % 3) if n % 4 else None)
            for n in range(40)])
        database.command('profile', 2)
        yield connection, database
        database.command('profile', 0)

    def test_every_query_shape_reads_an_index(self, profiled):
        connection, database = profiled
        page = models.Pagination(limit=5, marker='msg-010',
                                 sort=[('generated', 'desc')])
        shapes = [
            models.EventFilter(),
            models.EventFilter(project_id='p1'),
            models.EventFilter(project_id='p1', include_unowned=True),
            models.EventFilter(project_id='p1', user_id='u1'),
            models.EventFilter(event_type='compute.instance.update'),
            models.EventFilter(message_id='msg-004'),
            models.EventFilter(start_timestamp=START,
                               end_timestamp=START + datetime.timedelta(
                                   minutes=5)),
            models.EventFilter(traits_filter=[
                models.TraitFilter('instance_id', 'vm-1')]),
            models.EventFilter(traits_filter=[
                models.TraitFilter('user_id', 'u2')]),
            models.EventFilter(traits_filter=[
                models.TraitFilter('project_id', 'p2', op='ne')]),
            models.EventFilter(traits_filter=[
                models.TraitFilter('memory_mb', 4096, T.INT_TYPE, 'gt')]),
        ]
        for event_filter in shapes:
            connection.get_events(event_filter, models.Pagination(limit=5))
        connection.get_events(models.EventFilter(), page)
        connection.get_trait_types('compute.instance.update')
        connection.get_traits('compute.instance.update', 'memory_mb')
        plans = [entry.get('planSummary', '') for entry in
                 database['system.profile'].find(
                     {'ns': {'$regex': r'\.(event|trait_type)$'},
                      'op': {'$in': ['query', 'command']}})]
        assert plans
        assert not [plan for plan in plans if 'COLLSCAN' in plan]
