"""Who may see which events: policy checks and the ownership restriction.

The caller's identity comes from the X-User-Id, X-Project-Id and X-Roles
headers, set by keystonemiddleware (or by the client in noauth mode) and
read by oslo.context into ``pecan.request.context`` (see hooks.py). The
restriction is expressed in the storage filter (see
panko.storage.models.EventFilter):

- a caller that does not pass ``segregation`` sees the events whose
  project_id trait is its project and whose user_id trait is its user;
- one that passes it sees the events of its project and those without a
  project_id trait, or every event when it asks with ``all_tenants``.

``all_tenants`` from any other caller is ignored, not an error, as
Panko did.
"""

import pecan

from panko.api import errors

#: The rule of POST /v2/events, checked before its body is decoded.
CREATE_RULE = 'telemetry:events:create'


def allowed(rule):
    """Whether the caller passes ``rule``, its own project the target."""
    context = pecan.request.context
    target = {'project_id': context.project_id, 'user_id': context.user_id}
    return pecan.request.enforcer.enforce(rule, target, context)


def authorize(rule):
    """Raise 403 unless the caller passes ``rule``."""
    if not allowed(rule):
        raise errors.Forbidden()


def authorize_events(rule):
    """Like ``authorize``, for requests that read events.

    They need both a user and a project: the restriction is built from
    them, and without them it would match nothing, or everything.
    """
    context = pecan.request.context
    if not context.user_id or not context.project_id:
        raise errors.Forbidden('Reading events needs a user and a project '
                               '(X-User-Id and X-Project-Id).')
    authorize(rule)


def restrict(event_filter, all_tenants=False):
    """Limit ``event_filter`` to the events the caller may see."""
    context = pecan.request.context
    restriction = owner_restriction(context.project_id, context.user_id,
                                    allowed('segregation'), all_tenants)
    for field, value in restriction.items():
        setattr(event_filter, field, value)
    return event_filter


def owner_restriction(project_id, user_id, segregation, all_tenants=False):
    """The EventFilter fields that limit a caller to the events it may see.

    ``project_id`` and ``user_id`` are the caller's, ``segregation``
    whether it passes that rule. The caller's identity is given, not read
    from the request, so that the benchmark (tools/bench/queries.py)
    gives the storage the very filter the API would.
    """
    if not segregation:
        return {'project_id': project_id, 'user_id': user_id}
    if not all_tenants:
        return {'project_id': project_id, 'include_unowned': True}
    return {}
