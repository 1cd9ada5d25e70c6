"""panko-dbsync on new databases and on databases Panko 10 created."""

import datetime
import json
import os
import subprocess
import sys

import sqlalchemy as sa

from panko import storage
from panko.storage import models
from panko.storage.sqlalchemy import migration
from panko.tests import backends

T = models.Trait
EPOCH = datetime.datetime(1970, 1, 1)


def run_command(name, url, *args, **options):
    """Run a panko console script with a config file naming ``url``."""
    config = os.path.join(options.pop('directory'), 'panko.conf')
    with open(config, 'w') as f:
        f.write('[database]\nconnection = %s\n' % url)
        for option, value in options.items():
            f.write('%s = %s\n' % (option, value))
        f.write('[storage]\nmax_retries = 0\n')
    command = os.path.join(os.path.dirname(sys.executable), name)
    return subprocess.run([command, '--config-file', config, *args],
                          capture_output=True, text=True, timeout=120,
                          check=False)


def create_panko10_schema(connection):
    """The DDL Panko 10's dbsync ran, written out for each engine.

    On MySQL in utf8 (three bytes) and the row format of older servers,
    whose index keys hold 767 bytes of a column at most.
    """
    dialect = connection.dialect.name
    q = '`' if dialect == 'mysql' else '"'
    serial = {'postgresql': 'SERIAL PRIMARY KEY',
              'mysql': 'INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY',
              'sqlite': 'INTEGER PRIMARY KEY'}[dialect]
    timestamp = {'postgresql': 'TIMESTAMP WITHOUT TIME ZONE',
                 'mysql': 'DECIMAL(20, 6)',
                 'sqlite': 'DATETIME'}[dialect]
    statements = [
        'CREATE TABLE event_type (id %s, %sdesc%s VARCHAR(255), '
        'UNIQUE (%sdesc%s))' % (serial, q, q, q, q),
        'CREATE TABLE event (id %s, message_id VARCHAR(50), generated %s, '
        'raw TEXT, event_type_id INTEGER REFERENCES event_type (id), '
        'UNIQUE (message_id))' % (serial, timestamp),
    ]
    for table, value_type in (('trait_text', 'VARCHAR(255)'),
                              ('trait_int', 'BIGINT'),
                              ('trait_float', 'DOUBLE PRECISION'),
                              ('trait_datetime', timestamp)):
        statements.append(
            'CREATE TABLE %s (event_id INTEGER NOT NULL REFERENCES event (id),'
            ' %skey%s VARCHAR(255) NOT NULL, value %s, '
            'PRIMARY KEY (event_id, %skey%s))'
            % (table, q, q, value_type, q, q))
    if dialect == 'mysql':
        statements = [statement + ' DEFAULT CHARSET=utf8 ROW_FORMAT=COMPACT'
                      for statement in statements]
    for statement in statements:
        connection.exec_driver_sql(statement)


def panko10_time(connection, when):
    if connection.dialect.name == 'mysql':
        delta = when - EPOCH
        return '%d.%06d' % (delta.days * 86400 + delta.seconds,
                            delta.microseconds)
    return when.strftime('%Y-%m-%d %H:%M:%S.%f')


def fill_panko10(connection, events):
    """Insert events the way Panko 10 stored them."""
    tables = {T.TEXT_TYPE: 'trait_text', T.INT_TYPE: 'trait_int',
              T.FLOAT_TYPE: 'trait_float', T.DATETIME_TYPE: 'trait_datetime'}
    q = '`' if connection.dialect.name == 'mysql' else '"'
    event_types = set()
    for event in events:
        if event.event_type not in event_types:
            connection.execute(sa.text(
                'INSERT INTO event_type (%sdesc%s) VALUES (:name)' % (q, q)),
                {'name': event.event_type})
            event_types.add(event.event_type)
        connection.execute(sa.text(
            'INSERT INTO event (message_id, generated, raw, event_type_id) '
            'SELECT :mid, :generated, :raw, id FROM event_type '
            'WHERE %sdesc%s = :name' % (q, q)),
            {'mid': event.message_id, 'name': event.event_type,
             'generated': panko10_time(connection, event.generated),
             'raw': json.dumps(event.raw)})
        for trait in event.traits:
            value = trait.value
            if trait.dtype == T.DATETIME_TYPE:
                value = panko10_time(connection, value)
            connection.execute(sa.text(
                'INSERT INTO %s (event_id, %skey%s, value) SELECT id, :key, '
                ':value FROM event WHERE message_id = :mid'
                % (tables[trait.dtype], q, q)),
                {'key': trait.name, 'value': value,
                 'mid': event.message_id})


def panko10_events():
    base = datetime.datetime(2020, 5, 17, 8, 30, 0, 250000)
    events = []
    for n in range(12):
        traits = [T('instance_id', T.TEXT_TYPE, 'vm-\u00e9\u2603-%d' % n),
                  T('memory_mb', T.INT_TYPE, 1024 * n),
                  T('progress', T.FLOAT_TYPE, n / 8),
                  T('launched_at', T.DATETIME_TYPE,
                    base + datetime.timedelta(days=n, microseconds=n))]
        if n % 4:
            traits += [T('project_id', T.TEXT_TYPE, 'project-%d' % (n % 2)),
                       T('user_id', T.TEXT_TYPE, 'user-%d' % (n % 3))]
        events.append(models.Event(
            message_id='panko10-%02d' % n,
            event_type='compute.instance.%s' % ('update', 'exists')[n % 2],
            generated=base + datetime.timedelta(minutes=n, microseconds=n),
            traits=sorted(traits, key=lambda t: t.name),
            raw={'payload': {'n': n}} if n % 3 else {}))
    return events


def event_references(engine):
    """The trait tables whose foreign keys refer to ``event``."""
    inspector = sa.inspect(engine)
    return {table for table in ('trait_text', 'trait_int', 'trait_float',
                                'trait_datetime')
            for key in inspector.get_foreign_keys(table)
            if key['referred_table'] == 'event'}


def expected_event_references(engine):
    """PostgreSQL drops them (c1_pg_trait_no_event_fk); others keep them."""
    if engine.dialect.name == 'postgresql':
        return set()
    return {'trait_text', 'trait_int', 'trait_float', 'trait_datetime'}


class TestDbsync:

    def test_new_database_twice(self, empty_database_url, tmp_path):
        for _ in range(2):
            result = run_command('panko-dbsync', empty_database_url,
                                 directory=str(tmp_path))
            assert result.returncode == 0, result.stderr
        engine = sa.create_engine(empty_database_url)
        try:
            assert (migration.current_revision(engine)
                    == migration.head_revision())
            names = set(sa.inspect(engine).get_table_names())
            assert event_references(engine) == expected_event_references(
                engine)
            if engine.dialect.name == 'mysql':
                assert_utf8mb4_binary(engine)
        finally:
            engine.dispose()
        assert {'event', 'event_type', 'trait_text', 'trait_int',
                'trait_float', 'trait_datetime', 'trait_type',
                'dead_letter'} <= names

    def test_unreachable_database_is_a_clear_failure(self, tmp_path):
        result = run_command(
            'panko-dbsync', 'postgresql://nobody@127.0.0.1:1/none',
            directory=str(tmp_path))
        assert result.returncode != 0
        assert 'database unavailable' in result.stderr
        assert 'Traceback' not in result.stderr


class TestPanko10Upgrade:

    def test_history_is_kept(self, empty_database_url, tmp_path):
        events = panko10_events()
        engine = sa.create_engine(empty_database_url)
        try:
            with engine.begin() as connection:
                create_panko10_schema(connection)
                fill_panko10(connection, events)
        finally:
            engine.dispose()

        result = run_command('panko-dbsync', empty_database_url,
                             directory=str(tmp_path))
        assert result.returncode == 0, result.stderr
        assert 'Panko 10 database' in result.stdout + result.stderr
        engine = sa.create_engine(empty_database_url)
        try:
            assert event_references(engine) == expected_event_references(
                engine)
        finally:
            engine.dispose()

        conn = storage.get_connection(backends.make_conf(empty_database_url),
                                      empty_database_url)
        assert conn.get_events(models.EventFilter()) == events
        assert conn.get_event_types() == ['compute.instance.exists',
                                          'compute.instance.update']
        assert [t['name'] for t in conn.get_trait_types(
            'compute.instance.exists')] == [
            'instance_id', 'launched_at', 'memory_mb', 'progress',
            'project_id', 'user_id']
        # The ownership columns were back-filled from the traits.
        owned = conn.get_events(models.EventFilter(
            project_id='project-1', user_id='user-0'))
        assert [e.message_id for e in owned] == ['panko10-03', 'panko10-09']
        unowned = conn.get_events(models.EventFilter(
            project_id='nobody', include_unowned=True))
        assert [e.message_id for e in unowned] == [
            'panko10-00', 'panko10-04', 'panko10-08']
        # Trait values are indexed and comparable as before.
        later = conn.get_events(models.EventFilter(traits_filter=[
            models.TraitFilter('launched_at', events[10].traits[1].value,
                               T.DATETIME_TYPE, 'ge')]))
        assert [e.message_id for e in later] == ['panko10-10', 'panko10-11']

        # New events go in beside the old ones; old ids stay duplicates.
        new = models.Event('new-1', 'compute.instance.update',
                           datetime.datetime(2026, 1, 1),
                           [T('project_id', T.TEXT_TYPE, 'project-1')], {})
        result = conn.record_events([new, events[0]])
        assert result.stored == ['new-1']
        assert result.duplicates == ['panko10-00']
        # Every character now, on MySQL too, and compared as written.
        emoji = models.Event('new-\U0001f600', 'compute.\U0001f600',
                             datetime.datetime(2026, 1, 2), [
                                 T('name', T.TEXT_TYPE, 'vm \U0001f600'),
                                 T('Name', T.TEXT_TYPE, 'other'),
                                 T('name ', T.TEXT_TYPE, 'spaced')], {})
        assert conn.record_events([emoji]).stored == [emoji.message_id]
        assert conn.get_events(models.EventFilter(
            message_id=emoji.message_id)) == [emoji.validated()]

        # Dead letters can be kept in the upgraded database.
        conn.record_dead_letters([models.DeadLetter(
            'dispatcher', 'event', 'rejected', {'message_id': 'x'})])
        assert conn.count_dead_letters() == 1

        # Running dbsync again changes nothing.
        again = run_command('panko-dbsync', empty_database_url,
                            directory=str(tmp_path))
        assert again.returncode == 0, again.stderr
        assert len(conn.get_events(models.EventFilter())) == 14
        if conn.engine.dialect.name == 'mysql':
            assert_utf8mb4_binary(conn.engine)


def assert_utf8mb4_binary(engine):
    """Every text column of panko's tables holds utf8mb4, compared binary.

    And the database's default, for tables created later.
    """
    with engine.connect() as connection:
        columns = connection.execute(sa.text(
            'SELECT table_name, column_name, character_set_name, '
            'collation_name FROM information_schema.columns '
            'WHERE table_schema = DATABASE() AND character_set_name '
            "IS NOT NULL AND table_name != 'alembic_version'")).all()
        default = connection.execute(sa.text(
            'SELECT default_character_set_name, default_collation_name '
            'FROM information_schema.schemata '
            'WHERE schema_name = DATABASE()')).one()
    # The 11 of the event tables and the 5 of dead_letter.
    assert len(columns) == 16, columns
    assert {(row[2], row[3]) for row in columns} == {
        ('utf8mb4', 'utf8mb4_nopad_bin')}
    assert tuple(default) == ('utf8mb4', 'utf8mb4_nopad_bin')
