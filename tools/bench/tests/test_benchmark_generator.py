"""The benchmark's event generator keeps the promises the figures rely on."""

import collections
import json

import pytest

from bench import dispatcher
from bench import generator
from panko.ingestion import wire
from panko.storage import models

T = models.Trait


@pytest.fixture(scope='module')
def events():
    return list(generator.generate(2 * generator.BLOCK_SIZE, seed=7))


def test_a_seed_always_gives_the_same_events(events):
    again = list(generator.generate(2 * generator.BLOCK_SIZE, seed=7))
    assert again == events
    other = list(generator.generate(10, seed=8))
    assert [e.message_id for e in other] != [e.message_id
                                             for e in events[:10]]


def test_the_first_events_do_not_depend_on_the_count(events):
    assert list(generator.generate(1234, seed=7)) == events[:1234]


def test_events_are_valid_and_realistic(events):
    types = collections.Counter(event.event_type for event in events)
    assert 25 <= len(types) <= len(generator.event_types())
    assert types.most_common(2)[0][0] in ('identity.authenticate.success',
                                          'compute.instance.update')
    dtypes = set()
    for event in events:
        assert event.validated().message_id == event.message_id
        assert 12 <= len(event.traits) <= 18
        assert 1000 <= len(json.dumps(event.raw)) <= 2100
        assert generator.START <= event.generated < (
            generator.START + generator.SPAN)
        dtypes |= {trait.dtype for trait in event.traits}
        has_project = event.trait('project_id') is not None
        assert has_project != event.event_type.startswith('identity.')
    assert dtypes == {T.TEXT_TYPE, T.INT_TYPE, T.FLOAT_TYPE,
                      T.DATETIME_TYPE}


def test_each_resource_is_seen_by_5_to_20_events(events):
    block = generator.make_block(7, 0)
    counts = collections.Counter(e.trait('resource_id').value
                                 for e in block)
    last = block[-1].trait('resource_id').value
    assert all(5 <= n <= 20 for resource, n in counts.items()
               if resource != last)


def test_owners_are_skewed(events):
    users = collections.Counter(e.trait('user_id').value for e in events)
    projects = collections.Counter(e.trait('project_id').value
                                   for e in events if e.trait('project_id'))
    assert len(users) > 100 and len(projects) > 50
    assert users.most_common(1)[0][1] > 10 * (len(events) / 1000)


def test_dispatcher_benchmark_sends_what_panko_stores_unchanged(events):
    """The end-to-end benchmark's messages are signed Ceilometer events
    that parse back to the generated events, nothing rejected."""
    serialized = json.loads(json.dumps(
        [dispatcher.to_wire(event) for event in events[:200]]))
    parsed, rejected = wire.parse_events(serialized, dispatcher.SECRET)
    assert rejected == []
    assert ([event.validated() for event in parsed]
            == [event.validated() for event in events[:200]])
    tampered = dict(serialized[0], event_type='forged')
    assert wire.parse_events([tampered], dispatcher.SECRET)[0] == []
