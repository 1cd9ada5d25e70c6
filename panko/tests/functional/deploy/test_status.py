"""panko-status upgrade check, run as deployers run it."""

import json
import os
import subprocess
import sys

from alembic import command
from oslo_config import cfg
import pytest
import sqlalchemy as sa

from panko import service
from panko import storage
from panko.cmd import status
from panko.storage.sqlalchemy import migration
from panko.tests import backends

STATUS = os.path.join(os.path.dirname(sys.executable), 'panko-status')
SUCCESS, WARNING, FAILURE = 0, 1, 2


def write_config(directory, url, policy_file=None, rules_file=None):
    path = os.path.join(directory, 'panko.conf')
    with open(path, 'w') as f:
        f.write('[database]\nconnection = %s\n' % url)
        if rules_file:
            f.write('retention_rules_file = %s\n' % rules_file)
        f.write('[storage]\nmax_retries = 0\n')
        if policy_file:
            f.write('[oslo_policy]\npolicy_file = %s\n' % policy_file)
    return path


def write_policy(directory, text, name='policy.yaml'):
    path = os.path.join(directory, name)
    with open(path, 'w') as f:
        f.write(text)
    return path


def run_status(config_file):
    """Run the command; return its exit code and {check: (code, details)}."""
    process = subprocess.run(
        [STATUS, '--config-file', config_file, 'upgrade', 'check', '--json'],
        capture_output=True, text=True, timeout=60)
    report = json.loads(process.stdout)
    return process.returncode, {check['check']: (check['result'],
                                                 check['details'])
                                for check in report['checks']}


def sqlite_url(directory):
    return 'sqlite:///%s' % os.path.join(str(directory), 'panko.db')


def migrated(url):
    storage.get_connection(backends.make_conf(url), url).upgrade()
    return url


def test_migrated_database_passes(empty_database_url, tmp_path):
    config = write_config(str(tmp_path), migrated(empty_database_url))
    code, checks = run_status(config)
    assert code == SUCCESS, checks
    assert checks['Database schema current'] == (SUCCESS, None)
    assert checks['Storage reachable'] == (SUCCESS, None)
    assert checks['Policy file valid'][0] == SUCCESS


def test_empty_database_fails(tmp_path):
    with backends.temporary_database('mysql', str(tmp_path)) as url:
        code, checks = run_status(write_config(str(tmp_path), url))
    assert code == FAILURE
    result, details = checks['Database schema current']
    assert result == FAILURE
    assert 'run panko-dbsync' in details
    assert checks['Storage reachable'] == (SUCCESS, None)


def test_bad_policy_file_fails(tmp_path):
    url = migrated(sqlite_url(tmp_path))
    policy_file = write_policy(str(tmp_path), 'a: "role:admin"\n  b: [\n')
    code, checks = run_status(write_config(str(tmp_path), url, policy_file))
    assert code == FAILURE
    result, details = checks['Policy file valid']
    assert result == FAILURE
    assert policy_file in details
    assert checks['Database schema current'] == (SUCCESS, None)


def test_unreachable_storage_fails(tmp_path):
    url = 'postgresql://root@127.0.0.1:1/panko'
    code, checks = run_status(write_config(str(tmp_path), url))
    assert code == FAILURE
    assert checks['Storage reachable'][0] == FAILURE
    assert 'Cannot reach the storage' in checks['Storage reachable'][1]
    assert checks['Database schema current'][0] == FAILURE


def make_checks(directory, url='log://', policy_file=None):
    conf = cfg.ConfigOpts()
    service.register_options(conf)
    conf([], project='panko',
         default_config_files=[write_config(directory, url, policy_file)])
    return status.Checks(conf)


def test_outdated_schema_names_both_revisions(tmp_path):
    url = sqlite_url(tmp_path)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        command.upgrade(migration._alembic_config(connection),
                        migration.PANKO10_REVISION)
    engine.dispose()
    result = make_checks(str(tmp_path), url)._check_schema()
    assert result.code == status.Code.FAILURE
    assert migration.PANKO10_REVISION in result.details
    assert migration.head_revision() in result.details


def test_panko10_database_is_named(tmp_path):
    url = sqlite_url(tmp_path)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        command.upgrade(migration._alembic_config(connection),
                        migration.PANKO10_REVISION)
        connection.execute(sa.text('DROP TABLE alembic_version'))
    engine.dispose()
    result = make_checks(str(tmp_path), url)._check_schema()
    assert result.code == status.Code.FAILURE
    assert 'Panko 10' in result.details


def test_driver_without_schema_is_skipped(tmp_path):
    result = make_checks(str(tmp_path), 'log://')._check_schema()
    assert result.code == status.Code.SUCCESS
    assert 'Skipped' in result.details


def test_no_policy_file_uses_defaults(tmp_path):
    result = make_checks(str(tmp_path))._check_policy_file()
    assert result.code == status.Code.SUCCESS
    assert 'defaults' in result.details


@pytest.mark.parametrize('text, words', [
    ('"telemetry:events:index": "role:admin or"\n', 'do not parse'),
    ('"telemetry:events:index": "rule:no_such_rule"\n', 'not well defined'),
])
def test_invalid_rules_fail(tmp_path, text, words):
    policy_file = write_policy(str(tmp_path), text)
    result = make_checks(str(tmp_path),
                         policy_file=policy_file)._check_policy_file()
    assert result.code == status.Code.FAILURE
    assert words in result.details


def test_valid_policy_file_passes(tmp_path):
    # An alias of the operator's own is fine as long as a rule uses it.
    policy_file = write_policy(
        str(tmp_path), '"admin_only": "role:admin"\n'
                       '"telemetry:events:index": "not rule:admin_only"\n'
                       '"telemetry:events:show": "role:reader or '
                       '(rule:admin_only and role:member)"\n')
    result = make_checks(str(tmp_path),
                         policy_file=policy_file)._check_policy_file()
    assert result.code == status.Code.SUCCESS


def test_rule_panko_does_not_use_warns(tmp_path):
    policy_file = write_policy(str(tmp_path),
                               '"telemetry:event:index": "role:admin"\n')
    result = make_checks(str(tmp_path),
                         policy_file=policy_file)._check_policy_file()
    assert result.code == status.Code.WARNING
    assert 'telemetry:event:index' in result.details


def test_json_policy_file_fails(tmp_path):
    policy_file = write_policy(str(tmp_path), '{"a": "role:admin"}',
                               name='policy.json')
    result = make_checks(str(tmp_path),
                         policy_file=policy_file)._check_policy_json()
    assert result.code == status.Code.FAILURE


def test_bad_retention_rules_fail(tmp_path):
    url = migrated(sqlite_url(tmp_path))
    rules = tmp_path / 'rules.yaml'
    rules.write_text('rules:\n  - {event_type: "a[", ttl: 1d}\n')
    code, checks = run_status(write_config(str(tmp_path), url,
                                           rules_file=str(rules)))
    assert code == FAILURE
    result, details = checks['Retention rules valid']
    assert result == FAILURE
    assert details.startswith('Invalid retention rules: %s: rule 1: '
                              % rules)
    assert 'without its "]"' in details
    assert checks['Database schema current'] == (SUCCESS, None)


def test_retention_rules_are_counted(tmp_path):
    (tmp_path / 'rules.yaml').write_text(
        'rules: [{event_type: a, ttl: 1d}, {project_id: p, ttl: -1}]\n')
    conf = make_checks(str(tmp_path)).conf
    conf.set_override('retention_rules_file', 'rules.yaml', 'database')
    result = status.Checks(conf)._check_retention_rules()
    assert (result.code, result.details) == (
        status.Code.SUCCESS, '2 retention rules.')
    conf.clear_override('retention_rules_file', 'database')
    result = status.Checks(conf)._check_retention_rules()
    assert result.code == status.Code.SUCCESS
    assert 'No retention rules file' in result.details
