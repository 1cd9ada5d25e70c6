"""The benchmark's bulk loader writes exactly what record_events writes."""

import pytest
import sqlalchemy as sa

from bench import generator
from bench import load
from panko import storage
from panko.tests import backends

EVENTS = 1000
TRAIT_TABLES = ('trait_text', 'trait_int', 'trait_float', 'trait_datetime')


def contents(url):
    """Every stored fact, independent of the ids the rows were given."""
    engine = sa.create_engine(url)
    quote = engine.dialect.identifier_preparer.quote
    try:
        with engine.connect() as conn:
            events = conn.exec_driver_sql(
                'SELECT e.message_id, e.generated, t.%s, e.raw, '
                'e.project_id, e.user_id FROM event e JOIN event_type t '
                'ON t.id = e.event_type_id ORDER BY 1' % quote('desc')).all()
            traits = []
            for table in TRAIT_TABLES:
                traits += conn.exec_driver_sql(
                    'SELECT e.message_id, x.%s, x.value FROM %s x JOIN event'
                    ' e ON e.id = x.event_id' % (quote('key'), table)).all()
            kinds = conn.exec_driver_sql(
                'SELECT t.%s, x.%s, x.dtype FROM trait_type x JOIN '
                'event_type t ON t.id = x.event_type_id'
                % (quote('desc'), quote('key'))).all()
    finally:
        engine.dispose()
    return events, sorted(traits), sorted(kinds)


@pytest.mark.parametrize('engine_name',
                         backends.SQL_ENGINES + (backends.PARTITIONED,))
def test_load_writes_what_record_events_writes(engine_name, tmp_path):
    with backends.temporary_database(engine_name, str(tmp_path)) as ingested, \
            backends.temporary_database(engine_name,
                                        str(tmp_path)) as loaded:
        conn = storage.get_connection(backends.make_conf(ingested), ingested)
        conn.upgrade()
        events = list(generator.generate(EVENTS, seed=3))
        for start in range(0, EVENTS, 100):
            conn.record_events(events[start:start + 100])
        load.run(loaded, EVENTS, seed=3, workers=1)
        expected = contents(ingested)
        assert len(expected[0]) == EVENTS
        assert contents(loaded) == expected
        if engine_name == backends.PARTITIONED:
            for url in (ingested, loaded):
                assert traits_off_their_events_time(url) == 0
                assert partitions_without_indexes(url) == []


def traits_off_their_events_time(url):
    """Trait rows whose generated is not their event's (partitioned)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return sum(conn.exec_driver_sql(
                'SELECT count(*) FROM %s x JOIN event e ON e.id = x.event_id'
                ' WHERE e.generated <> x.generated' % table).scalar()
                for table in TRAIT_TABLES)
    finally:
        engine.dispose()


def partitions_without_indexes(url):
    """Partitions lacking one of their table's indexes, invalid indexes."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql(
                'SELECT c.relname FROM pg_inherits i'
                ' JOIN pg_class c ON c.oid = i.inhrelid'
                ' JOIN pg_class p ON p.oid = i.inhparent'
                " WHERE c.relkind = 'r' AND (SELECT count(*) FROM pg_index"
                ' WHERE indrelid = c.oid) <> (SELECT count(*) FROM pg_index'
                ' WHERE indrelid = p.oid)'
                ' UNION ALL SELECT indexrelid::regclass::text FROM pg_index'
                ' WHERE NOT indisvalid').scalars().all()
    finally:
        engine.dispose()
