"""panko-expirer with a retention rules file, run as cron runs it."""

import datetime

from oslo_utils import timeutils
import pytest

from panko import storage
from panko.tests import backends
from panko.tests.functional.storage import test_storage
from panko.tests.functional.storage.test_sql_migrations import run_command

RULES = '''rules:
  - event_type: "identity.*"
    ttl: 1d
  - project_id: "p1"
    ttl: forever
'''


@pytest.fixture(params=['sqlite', 'postgresql'])
def store(request, tmp_path):
    """A migrated store of each engine with five events of three kinds."""
    with backends.temporary_database(request.param, str(tmp_path)) as url:
        conn = storage.get_connection(backends.make_conf(url), url)
        conn.upgrade()
        now = timeutils.utcnow()
        old = now - datetime.timedelta(days=3)
        conn.record_events([
            test_storage.make_event(1, 'identity.authenticate', 'p1',
                                    generated=old),
            test_storage.make_event(2, 'compute.instance.update', 'p1',
                                    generated=old),
            test_storage.make_event(3, 'compute.instance.update', 'p2',
                                    generated=old),
            test_storage.make_event(4, 'compute.instance.update', 'p2',
                                    generated=now),
            test_storage.make_event(5, 'identity.authenticate', 'p2',
                                    generated=now)])
        yield url, conn
        conn.engine.dispose()


def stored(conn):
    return test_storage.query(conn)


def expire(url, directory, **options):
    return run_command('panko-expirer', url, directory=str(directory),
                       **options)


def test_rules_next_to_the_configuration_are_applied(store, tmp_path):
    url, conn = store
    (tmp_path / 'rules.yaml').write_text(RULES)
    result = expire(url, tmp_path, event_time_to_live=86400 * 2,
                    retention_rules_file='rules.yaml')
    assert result.returncode == 0, result.stderr
    # identity.* after a day, p1's other events never, the rest after 2.
    assert stored(conn) == ['msg-002', 'msg-004', 'msg-005']
    assert 'Expired 2 events' in result.stdout + result.stderr


def test_rules_apply_when_the_global_ttl_keeps_forever(store, tmp_path):
    url, conn = store
    rules = tmp_path / 'rules.yaml'
    rules.write_text(RULES)
    result = expire(url, tmp_path, event_time_to_live=-1,
                    retention_rules_file=str(rules))
    assert result.returncode == 0, result.stderr
    assert stored(conn) == ['msg-002', 'msg-003', 'msg-004', 'msg-005']


def test_rules_that_keep_everything_leave_the_store_alone(store, tmp_path):
    url, conn = store
    (tmp_path / 'rules.yaml').write_text(
        'rules: [{project_id: p1, ttl: -1}]\n')
    result = expire(url, tmp_path, event_time_to_live=0,
                    retention_rules_file='rules.yaml')
    assert result.returncode == 0, result.stderr
    assert 'kept forever' in result.stdout + result.stderr
    assert len(stored(conn)) == 5


@pytest.mark.parametrize('text, problem', [
    ('rules:\n  - {event_type: a, ttl: 1d}\n  - {event_type: b, ttl: 7w}\n',
     "rule 2: ttl '7w' is not seconds"),
    ('rules:\n  - {event_type: a, tll: 1d}\n', "rule 1: unknown key 'tll'"),
    ('rules: [{event_type: a, ttl: 1d}\n', 'not valid YAML'),
])
def test_a_bad_file_stops_it_with_one_line_and_nothing_deleted(
        store, tmp_path, text, problem):
    url, conn = store
    rules = tmp_path / 'rules.yaml'
    rules.write_text(text)
    result = expire(url, tmp_path, event_time_to_live=60,
                    retention_rules_file=str(rules))
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('Invalid retention rules: %s: ' % rules)
    assert problem in last
    assert 'Traceback' not in result.stderr
    assert len(stored(conn)) == 5


def test_a_missing_file_stops_it(store, tmp_path):
    url, conn = store
    result = expire(url, tmp_path, event_time_to_live=60,
                    retention_rules_file='missing.yaml')
    assert result.returncode == 1
    assert ('Invalid retention rules: missing.yaml: cannot read the '
            'retention rules' in result.stderr)
    assert len(stored(conn)) == 5
