"""Values that the bulk write paths must carry unchanged.

On PostgreSQL a batch travels as COPY rows in its text format; these
values are the ones such an encoding could alter (quotes, backslashes,
tabs and newlines are its delimiters and escapes).
"""

import collections
import datetime
import math
import subprocess
import sys

from oslo_utils import timeutils
import sqlalchemy as sa

from panko import storage
from panko.storage import models
from panko.storage.sqlalchemy import rows
from panko.storage.sqlalchemy import tables
from panko.tests import backends

T = models.Trait
WHEN = datetime.datetime(2026, 3, 1, 12, 0, 0, 1)
AWKWARD_TEXT = ('quote " backslash \\ tab \t newline \n \u00e9 \u2603 '
                '{a,b} NULL')


def stored_traits(conn, message_id):
    [event] = conn.get_events(models.EventFilter(message_id=message_id))
    return {trait.name: trait.value for trait in event.traits}, event


def test_awkward_text_and_raw_round_trip(conn):
    event = models.Event('m-1', 'compute.instance.update', WHEN,
                         [T('name', T.TEXT_TYPE, AWKWARD_TEXT),
                          T('project_id', T.TEXT_TYPE, 'p"1\\'),
                          T('when', T.DATETIME_TYPE, WHEN),
                          T('whole', T.DATETIME_TYPE,
                            datetime.datetime(2026, 3, 1))],
                         raw={'text': AWKWARD_TEXT, 'list': [1, None]})
    assert conn.record_events([event]).stored == ['m-1']
    traits, stored = stored_traits(conn, 'm-1')
    assert traits == {'name': AWKWARD_TEXT, 'project_id': 'p"1\\',
                      'when': WHEN,
                      'whole': datetime.datetime(2026, 3, 1)}
    assert stored.raw == {'text': AWKWARD_TEXT, 'list': [1, None]}
    assert stored.generated == WHEN
    assert conn.get_events(models.EventFilter(project_id='p"1\\'))


def test_non_finite_floats_are_rejected_alike_everywhere(conn):
    events = [models.Event('m-%d' % n, 'compute.instance.update', WHEN,
                           [T('f', T.FLOAT_TYPE, value)])
              for n, value in enumerate((math.nan, math.inf, -math.inf,
                                         5e-324))]
    result = conn.record_events(events)
    assert result.stored == ['m-3']
    assert [(mid, 'not a finite number' in why)
            for mid, why in result.rejected] == [
        ('m-0', True), ('m-1', True), ('m-2', True)]
    traits, _ = stored_traits(conn, 'm-3')
    assert traits == {'f': 5e-324}


def test_nul_characters_are_dropped_from_text_alike_everywhere(conn):
    """PostgreSQL cannot store NUL: a text value loses it on every engine
    (the event is kept); a NUL in a name or id refuses the event."""
    events = [
        models.Event('m-0', 'compute.instance.update', WHEN,
                     [T('name', T.TEXT_TYPE, 'vm\x00-1'),
                      T('other', T.NONE_TYPE, '\x00x')],
                     raw={'note': 'a\x00b'}),
        models.Event('m-1', 'compute.instance.update', WHEN,
                     [T('na\x00me', T.TEXT_TYPE, 'x')]),
        models.Event('m-\x002', 'compute.instance.update', WHEN, []),
        models.Event('m-3', 'compute\x00update', WHEN, []),
    ]
    result = conn.record_events(events)
    assert result.stored == ['m-0']
    assert [(mid, 'NUL' in why) for mid, why in result.rejected] == [
        ('m-1', True), ('m-\x002', True), ('m-3', True)]
    traits, stored = stored_traits(conn, 'm-0')
    assert traits == {'name': 'vm-1', 'other': 'x'}
    assert stored.raw == {'note': 'a\x00b'}


def test_a_large_batch_keeps_every_row(conn):
    events = [models.Event('big-%04d' % n, 'type-%d' % (n % 7),
                           WHEN + datetime.timedelta(seconds=n),
                           [T('n', T.INT_TYPE, n),
                            T('s', T.TEXT_TYPE, 'v%d' % n)])
              for n in range(1000)]
    assert len(conn.record_events(events).stored) == 1000
    stored = conn.get_events(models.EventFilter(
        traits_filter=[models.TraitFilter('n', 990, T.INT_TYPE, 'ge')]))
    assert [event.message_id for event in stored] == [
        'big-%04d' % n for n in range(990, 1000)]
    assert {t.name: t.value for t in stored[-1].traits} == {
        'n': 999, 's': 'v999'}


def test_trait_rows_come_and_go_with_their_event(empty_database_url):
    """No trait row outlives its event, keys or no keys.

    PostgreSQL has no foreign key from the trait tables to ``event``
    (migration c1_pg_trait_no_event_fk): the driver keeps them in step.
    """
    conn = storage.get_connection(backends.make_conf(empty_database_url),
                                  empty_database_url)
    conn.upgrade()
    now = timeutils.utcnow()
    old, recent = (now - datetime.timedelta(days=2),
                   now - datetime.timedelta(hours=1))
    events = [models.Event('m-%d' % n, 'compute.instance.update',
                           old if n < 3 else recent,
                           [T('name', T.TEXT_TYPE, 'vm-%d' % n),
                            T('n', T.INT_TYPE, n), T('f', T.FLOAT_TYPE, 0.5),
                            T('at', T.DATETIME_TYPE, WHEN)])
              for n in range(5)]
    conn.record_events(events)
    # A batch repeating stored events adds no trait rows for them.
    assert conn.record_events(events[:2]).duplicates == ['m-0', 'm-1']
    assert trait_rows_per_event(conn) == {
        'm-%d' % n: 4 for n in range(5)}
    assert conn.clear_expired_data(86400) == 3
    assert trait_rows_per_event(conn) == {'m-3': 4, 'm-4': 4}
    assert orphan_trait_rows(conn) == 0


def trait_rows_per_event(conn):
    counts = collections.Counter()
    with conn.engine.connect() as c:
        for table in rows.TRAIT_TABLES.values():
            counts.update(c.scalars(
                sa.select(tables.event.c.message_id).join(
                    table, table.c.event_id == tables.event.c.id)))
    return dict(counts)


def orphan_trait_rows(conn):
    with conn.engine.connect() as c:
        return sum(c.scalar(
            sa.select(sa.func.count()).select_from(table).where(
                ~table.c.event_id.in_(sa.select(tables.event.c.id))))
            for table in rows.TRAIT_TABLES.values())


#: Writes and reads an event of a SQLite store (the URL is argv[1]) with
#: psycopg impossible to import.
WITHOUT_PSYCOPG = """
import datetime
import sys

sys.modules['psycopg'] = None

from panko import service
from panko import storage
from panko.storage import impl_sqlalchemy
from panko.storage import models

url = sys.argv[1]
conf = service.prepare_service([], config_files=[])
conn = storage.get_connection(conf, url)
assert isinstance(conn, impl_sqlalchemy.Connection)
conn.upgrade()
event = models.Event('m-1', 'compute.instance.update',
                     datetime.datetime(2026, 3, 1),
                     [models.Trait('project_id', models.Trait.TEXT_TYPE,
                                   'p1')])
assert conn.record_events([event]).stored == ['m-1']
[stored] = conn.get_events(models.EventFilter(project_id='p1'))
assert stored.message_id == 'm-1'
"""


def test_sqlite_store_works_without_psycopg(tmp_path):
    """A MySQL- or SQLite-only install does not need psycopg."""
    url = 'sqlite:///%s' % (tmp_path / 'panko.db')
    process = subprocess.run([sys.executable, '-c', WITHOUT_PSYCOPG, url],
                             capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr
