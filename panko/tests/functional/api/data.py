"""The API tests' events and callers.

Callers are header sets: ``ADMIN`` (of project p1), ``MEMBER`` (user u1
of project p1), ``OTHER_USER`` (u2 of p1) and ``OTHER_PROJECT`` (u3 of
p2).
"""

import datetime

from panko.storage import models

T = models.Trait
START = datetime.datetime(2026, 3, 1, 12, 0, 0)

ADMIN = {'X-User-Id': 'admin-user', 'X-Project-Id': 'p1',
         'X-Roles': 'admin,member'}
MEMBER = {'X-User-Id': 'u1', 'X-Project-Id': 'p1', 'X-Roles': 'member'}
OTHER_USER = {'X-User-Id': 'u2', 'X-Project-Id': 'p1', 'X-Roles': 'member'}
OTHER_PROJECT = {'X-User-Id': 'u3', 'X-Project-Id': 'p2',
                 'X-Roles': 'member'}

#: (message_id, event_type, project, user, minutes after START)
#: msg-04 and msg-05 share their time, to test the tie-breaker.
LAYOUT = [
    ('msg-00', 'compute.instance.update', 'p1', 'u1', 0),
    ('msg-01', 'compute.instance.delete.end', 'p1', 'u1', 1),
    ('msg-02', 'compute.instance.update', 'p1', 'u2', 2),
    ('msg-03', 'compute.instance.update', 'p2', 'u3', 3),
    ('msg-04', 'compute.instance.update', 'p1', 'u1', 4),
    ('msg-05', 'compute.instance.delete.end', 'p1', 'u1', 4),
    ('msg-06', 'identity.authenticate', None, 'u1', 6),
    ('msg-07', 'compute.instance.update', 'p2', 'u3', 7),
    ('msg-08', 'identity.authenticate', None, None, 8),
    ('msg-09', 'compute.instance.update', 'p1', 'u1', 9),
]


def make_event(message_id, event_type, project, user, minutes):
    number = int(message_id[-2:])
    traits = [T('instance_id', T.TEXT_TYPE, 'vm-%d' % (number % 3)),
              T('memory_mb', T.INT_TYPE, 512 * number),
              T('load', T.FLOAT_TYPE, number / 4),
              T('launched_at', T.DATETIME_TYPE,
                START + datetime.timedelta(hours=number, microseconds=5))]
    if project is not None:
        traits.append(T('project_id', T.TEXT_TYPE, project))
    if user is not None:
        traits.append(T('user_id', T.TEXT_TYPE, user))
    return models.Event(
        message_id=message_id, event_type=event_type,
        generated=START + datetime.timedelta(minutes=minutes,
                                             microseconds=123456),
        traits=traits, raw={'payload': {'n': number, 'nested': [1, 'x']}})


def visible(predicate):
    """The message_ids of LAYOUT rows matching ``predicate``, in order."""
    return [row[0] for row in LAYOUT if predicate(*row)]


def ids(response):
    return [event['message_id'] for event in response.json]
