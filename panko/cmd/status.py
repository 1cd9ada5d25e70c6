"""panko-status: checks to run before and after an upgrade.

``panko-status upgrade check`` exits 0 when every check passes, 1 when a
check warns and 2 when one fails (oslo.upgradecheck's convention).
"""

import sys

from oslo_config import cfg
from oslo_policy import policy
from oslo_upgradecheck import common_checks
from oslo_upgradecheck import upgradecheck

from panko import service
from panko import storage
from panko.api import policies
from panko.storage import retention

Code = upgradecheck.Code
Result = upgradecheck.Result


def _referenced_rules(check):
    """Names of the rules a parsed check refers to with ``rule:``."""
    if isinstance(check, policy.RuleCheck):
        yield check.match
    for child in getattr(check, 'rules', ()):
        yield from _referenced_rules(child)
    if isinstance(check, policy.NotCheck):
        yield from _referenced_rules(check.rule)


class Checks(upgradecheck.UpgradeCommands):
    """The checks of ``panko-status upgrade check``."""

    def __init__(self, conf):
        self.conf = conf

    def _connect(self):
        """The configured storage connection, without start-up retries."""
        url = self.conf.database.connection
        if not url:
            raise storage.StorageError('[database] connection is not set')
        return storage.get_connection(self.conf, url)

    def _check_storage(self):
        try:
            self._connect()
        except Exception as e:
            return Result(Code.FAILURE,
                          'Cannot reach the storage: %s' % e)
        return Result(Code.SUCCESS)

    def _check_schema(self):
        try:
            connection = self._connect()
        except Exception as e:
            return Result(Code.FAILURE,
                          'Cannot check the schema, the storage is not '
                          'reachable: %s' % e)
        schema = connection.schema_status()
        if schema is None:
            return Result(Code.SUCCESS,
                          'Skipped: the %s driver has no versioned schema.'
                          % type(connection).__module__)
        if schema.panko10:
            return Result(Code.FAILURE,
                          'The database has the schema of Panko 10: run '
                          'panko-dbsync to upgrade it in place.')
        if schema.current is None:
            return Result(Code.FAILURE,
                          'The database has no panko schema: run '
                          'panko-dbsync.')
        if schema.current != schema.head:
            return Result(Code.FAILURE,
                          'The schema is at revision %s, this release '
                          'needs %s: run panko-dbsync.'
                          % (schema.current, schema.head))
        return Result(Code.SUCCESS)

    def _check_policy_file(self):
        enforcer = policies.get_enforcer(self.conf)
        path = self.conf.find_file(self.conf.oslo_policy.policy_file)
        if not path:
            return Result(Code.SUCCESS,
                          'No policy file: the defaults in code apply.')
        try:
            enforcer.load_rules(force_reload=True)
            enforcer.check_rules(raise_on_violation=True)
        except Exception as e:
            return Result(Code.FAILURE,
                          'The policy file %s is invalid: %s' % (path, e))
        unparsable = sorted(
            name for name, rule in enforcer.file_rules.items()
            if str(rule.check) == '!' and rule.check_str.strip() != '!')
        if unparsable:
            return Result(Code.FAILURE,
                          'The policy file %s has rules that do not parse: '
                          '%s' % (path, ', '.join(unparsable)))
        referenced = set()
        for check in enforcer.rules.values():
            referenced.update(_referenced_rules(check))
        unknown = sorted(set(enforcer.file_rules)
                         - set(enforcer.registered_rules) - referenced)
        if unknown:
            return Result(Code.WARNING,
                          'The policy file %s sets rules that panko does '
                          'not use and no rule refers to: %s'
                          % (path, ', '.join(unknown)))
        return Result(Code.SUCCESS)

    def _check_retention_rules(self):
        try:
            rules = retention.from_config(self.conf)
        except retention.InvalidRules as e:
            return Result(Code.FAILURE, 'Invalid retention rules: %s' % e)
        if not self.conf.database.retention_rules_file:
            return Result(Code.SUCCESS,
                          'No retention rules file: event_time_to_live '
                          'applies to every event.')
        return Result(Code.SUCCESS, '%d retention rules.' % len(rules))

    def _check_policy_json(self):
        return common_checks.check_policy_json(self, self.conf)

    _upgrade_checks = (
        ('Storage reachable', _check_storage),
        ('Database schema current', _check_schema),
        ('Policy file valid', _check_policy_file),
        ('Retention rules valid', _check_retention_rules),
        ('Policy File JSON to YAML Migration', _check_policy_json),
    )


def main(argv=None):
    conf = cfg.ConfigOpts()
    service.register_options(conf)
    return upgradecheck.main(
        conf, project='panko', upgrade_command=Checks(conf),
        argv=sys.argv[1:] if argv is None else argv)
