"""Retention rules applied by clear_expired_data, on every backend."""

import datetime

from oslo_utils import timeutils
import pytest

from panko.storage import base
from panko.storage import retention
from panko.tests.functional.storage.test_storage import make_event
from panko.tests.functional.storage.test_storage import query

Rule = retention.Rule
DAY = 86400

RULES = (
    Rule(event_type='identity.authenticate', ttl=7 * DAY),
    Rule(project_id='p1', ttl=365 * DAY),
    Rule(event_type='compute.instance.*', project_id='p2', ttl=None),
    Rule(event_type='compute.*', ttl=2 * DAY),
)
GLOBAL_TTL = 30 * DAY

#: (event type, project, age in days, expired under RULES and GLOBAL_TTL)
SCENARIO = [
    # The first rule wins over the project rule after it.
    ('identity.authenticate', 'p1', 8, True),
    ('identity.authenticate', 'p1', 6, False),
    # Every other event of p1 is kept a year.
    ('image.upload', 'p1', 300, False),
    ('image.upload', 'p1', 400, True),
    ('compute.instance.update', 'p1', 300, False),
    # p2's instance events are kept forever...
    ('compute.instance.update', 'p2', 1000, False),
    ('compute.instance.delete.end', 'p2', 1000, False),
    # ...but not its other compute events, nor other projects' ones.
    ('compute.volume.attach', 'p2', 3, True),
    ('compute.instance.update', 'p3', 3, True),
    ('compute.instance.update', None, 3, True),
    ('compute.instance.update', None, 1, False),
    # Patterns are case-sensitive: the global TTL applies.
    ('Compute.instance.update', 'p3', 3, False),
    ('Compute.instance.update', 'p3', 31, True),
    # No rule matches: the global TTL.
    ('image.upload', 'p2', 31, True),
    ('image.upload', 'p2', 29, False),
    ('image.upload', None, 31, True),
    ('image.upload', None, 29, False),
]


def record(conn, scenario):
    """Store the events of ``scenario``; return the ids kept and expired."""
    now = timeutils.utcnow()
    kept, expired = [], []
    events = []
    for number, (event_type, project, age, gone) in enumerate(scenario):
        events.append(make_event(
            number, event_type=event_type, project=project,
            generated=now - datetime.timedelta(days=age, minutes=number)))
        (expired if gone else kept).append('msg-%03d' % number)
    assert len(conn.record_events(events).stored) == len(events)
    return kept, expired


def stored(conn):
    return sorted(query(conn))


class TestRules:

    def test_the_first_matching_rule_decides_else_the_global_ttl(
            self, conn):
        kept, expired = record(conn, SCENARIO)
        assert conn.clear_expired_data(GLOBAL_TTL, rules=RULES) == len(
            expired)
        assert stored(conn) == kept
        # Expiring again finds nothing more.
        assert conn.clear_expired_data(GLOBAL_TTL, rules=RULES) == 0
        assert stored(conn) == kept

    def test_event_types_left_without_events_are_removed(self, conn):
        record(conn, SCENARIO)
        conn.clear_expired_data(GLOBAL_TTL, rules=RULES)
        assert conn.get_event_types() == [
            'Compute.instance.update', 'compute.instance.delete.end',
            'compute.instance.update', 'identity.authenticate',
            'image.upload']
        assert conn.get_trait_types('compute.volume.attach') == []

    def test_a_global_ttl_that_keeps_forever_leaves_the_rest(self, conn):
        kept, _ = record(conn, [
            ('compute.instance.update', 'p1', 3, True),
            ('compute.instance.update', 'p1', 1, False),
            ('image.upload', 'p1', 3000, False),
            ('image.upload', None, 3000, False)])
        rules = (Rule(event_type='compute.*', ttl=2 * DAY),)
        assert conn.clear_expired_data(-1, rules=rules) == 1
        assert stored(conn) == kept

    def test_a_project_rule_that_keeps_forever(self, conn):
        kept, _ = record(conn, [
            ('a.b', 'p1', 3000, False),
            ('a.c', 'p1', 3000, False),
            ('a.b', 'p2', 3, True),
            ('a.b', None, 3, True),
            ('a.b', None, 1, False)])
        rules = (Rule(project_id='p1', ttl=None),)
        assert conn.clear_expired_data(2 * DAY, rules=rules) == 2
        assert stored(conn) == kept

    def test_a_project_id_is_matched_exactly(self, conn):
        kept, _ = record(conn, [
            ('a.b', 'p1', 3, False),
            ('a.b', 'P1', 3, True),
            ('a.b', 'p10', 3, True)])
        rules = (Rule(project_id='p1', ttl=7 * DAY),)
        assert conn.clear_expired_data(2 * DAY, rules=rules) == 2
        assert stored(conn) == kept

    def test_patterns(self, conn):
        kept, _ = record(conn, [
            ('image.upload', None, 3, True),
            ('image.update', None, 3, False),
            ('image.delete', None, 3, False),
            ('a[b]', None, 3, True),
            ('ab', None, 3, False),
            ('network.create.end', None, 3, True),
            ('network.create', None, 3, False)])
        rules = (Rule(event_type='image.?pload', ttl=DAY),
                 Rule(event_type='a[[]b]', ttl=DAY),
                 Rule(event_type='*.end', ttl=DAY))
        assert conn.clear_expired_data(-1, rules=rules) == 3
        assert stored(conn) == kept

    def test_without_rules_the_global_ttl_alone(self, conn):
        kept, _ = record(conn, [(event_type, project, age, age > 30)
                                for event_type, project, age, _ in SCENARIO])
        assert conn.clear_expired_data(GLOBAL_TTL, rules=()) == (
            len(SCENARIO) - len(kept))
        assert stored(conn) == kept


class TestBatches:

    def test_a_run_deletes_at_most_max_count_across_rules(self, conn):
        _, expired = record(conn, SCENARIO)
        deleted = 0
        while True:
            count = conn.clear_expired_data(GLOBAL_TTL, max_count=3,
                                            rules=RULES)
            assert count <= 3
            if not count:
                break
            deleted += count
        assert deleted == len(expired)
        assert set(stored(conn)).isdisjoint(expired)

    def test_each_rule_deletes_in_bounded_rounds(self, conn, monkeypatch):
        monkeypatch.setattr(base, 'EXPIRY_CHUNK', 2)
        rounds = []
        original = conn._delete_expired_events

        def counted(selector, limit):
            rounds.append(limit)
            return original(selector, limit)

        monkeypatch.setattr(conn, '_delete_expired_events', counted)
        record(conn, [('a.b', None, 3, True)] * 5
               + [('c.d', 'p1', 40, True)] * 3)
        rules = (Rule(event_type='a.*', ttl=DAY),)
        assert conn.clear_expired_data(GLOBAL_TTL, rules=rules) == 8
        assert stored(conn) == []
        assert set(rounds) == {2}
        # Rounds of 2, 2 and 1 events, then 2 and 1, each rule ending
        # with a round that finds none. A partitioned store drops the
        # 40-day-old events with their partitions, older than every TTL.
        partitioned = getattr(conn, 'partition_width', None)
        assert len(rounds) == (5 if partitioned else 7)


class TestPartitionHook:

    @pytest.fixture
    def cutoffs(self, conn, monkeypatch):
        calls = []

        def drop(cutoff):
            calls.append(cutoff)
            return 0

        monkeypatch.setattr(conn, '_drop_expired_partitions', drop)
        return calls

    def test_the_oldest_cutoff_of_every_ttl_comes_first(
            self, conn, cutoffs):
        before = timeutils.utcnow()
        conn.clear_expired_data(GLOBAL_TTL, rules=(
            Rule(event_type='a.*', ttl=DAY),
            Rule(project_id='p1', ttl=365 * DAY)))
        [cutoff] = cutoffs
        year = datetime.timedelta(days=365)
        assert before - year <= cutoff <= timeutils.utcnow() - year

    def test_without_rules_the_global_cutoff(self, conn, cutoffs):
        before = timeutils.utcnow()
        conn.clear_expired_data(DAY)
        [cutoff] = cutoffs
        assert (before - datetime.timedelta(days=1) <= cutoff
                <= timeutils.utcnow() - datetime.timedelta(days=1))

    @pytest.mark.parametrize('ttl, rules', [
        (-1, (Rule(event_type='a.*', ttl=DAY),)),
        (DAY, (Rule(event_type='a.*', ttl=None),)),
        (DAY, (Rule(project_id='p1', ttl=DAY),
               Rule(project_id='p2', ttl=None)))])
    def test_never_while_anything_is_kept_forever(
            self, conn, cutoffs, ttl, rules):
        conn.clear_expired_data(ttl, rules=rules)
        assert cutoffs == []

    def test_what_partitions_dropped_is_counted(self, conn, monkeypatch):
        monkeypatch.setattr(conn, '_drop_expired_partitions',
                            lambda cutoff: 5)
        assert conn.clear_expired_data(DAY) == 5
