"""The API's access rules, in code (oslo.policy), overridable by a file.

``oslopolicy-sample-generator --namespace panko`` lists them with their
defaults. What ``segregation`` means for the events a caller sees is
explained in panko/api/rbac.py.
"""

from oslo_policy import policy

RULES = [
    policy.RuleDefault(
        name='context_is_admin',
        check_str='role:admin',
        description='Who is an administrator: only administrators may '
                    'read trait descriptions and trait values of an '
                    'event type.'),
    policy.RuleDefault(
        name='segregation',
        check_str='rule:context_is_admin',
        description='Callers passing this rule see the events of their '
                    'project and the events that belong to no project, '
                    'and every event with all_tenants=True; others see '
                    'only the events of their own user and project.'),
    policy.DocumentedRuleDefault(
        name='telemetry:events:index',
        check_str='',
        description='List events (each caller sees those the segregation '
                    'rule lets it see).',
        operations=[{'path': '/v2/events', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='telemetry:event_types:index',
        check_str='rule:context_is_admin',
        description='List the names of the event types. They are those of '
                    'every project\'s events, so only administrators may, '
                    'as in Panko 10 and later.',
        operations=[{'path': '/v2/event_types', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='telemetry:events:show',
        check_str='',
        description='Show one event.',
        operations=[{'path': '/v2/events/{message_id}',
                     'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='telemetry:events:create',
        check_str='rule:context_is_admin or role:service',
        description="Record events, as Ceilometer's http:// publisher "
                    "posts them: for administrators and the services.",
        operations=[{'path': '/v2/events', 'method': 'POST'}]),
]


def list_rules():
    """The rules, for the ``oslo.policy.policies`` entry point."""
    return RULES


def get_enforcer(conf):
    """An enforcer with our defaults and the ``[oslo_policy]`` file."""
    enforcer = policy.Enforcer(conf)
    enforcer.register_defaults(list_rules())
    return enforcer
