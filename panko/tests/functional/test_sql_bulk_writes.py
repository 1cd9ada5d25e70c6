"""Values that the bulk write paths must carry unchanged.

On PostgreSQL a batch travels as one JSON document per table; these
values are the ones such an encoding could alter.
"""

import datetime
import math

from panko.storage import models

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
