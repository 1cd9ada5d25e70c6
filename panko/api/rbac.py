"""Who may see which events: policy checks and the ownership restriction.

The caller's identity comes from the X-User-Id, X-Project-Id and X-Roles
headers, set by keystonemiddleware (or by the client in noauth mode) and
read by oslo.context. The restriction is expressed in the storage filter
(see panko.storage.models.EventFilter):

- a caller that does not pass ``segregation`` sees the events whose
  project_id trait is its project and whose user_id trait is its user;
- one that passes it sees the events of its project and those without a
  project_id trait, or every event when it asks with ``all_tenants``.

``all_tenants`` from any other caller is ignored, not an error, as
Panko did.
"""

from oslo_context import context as oslo_context
import pecan

from panko.api.controllers.v2 import base


def request_context():
    return oslo_context.RequestContext.from_environ(pecan.request.environ)


def allowed(rule):
    context = request_context()
    return pecan.request.enforcer.enforce(rule, {}, context)


def authorize(rule):
    """Raise 403 unless the caller passes ``rule``."""
    if not allowed(rule):
        raise base.Forbidden()


def authorize_events(rule):
    """Like ``authorize``, for requests that read events.

    They need both a user and a project: the restriction is built from
    them, and without them it would match nothing, or everything.
    """
    context = request_context()
    if not context.user_id or not context.project_id:
        raise base.Forbidden('Reading events needs a user and a project '
                             '(X-User-Id and X-Project-Id).')
    authorize(rule)


def restrict(event_filter, all_tenants=False):
    """Limit ``event_filter`` to the events the caller may see."""
    context = request_context()
    if not allowed('segregation'):
        event_filter.project_id = context.project_id
        event_filter.user_id = context.user_id
    elif not all_tenants:
        event_filter.project_id = context.project_id
        event_filter.include_unowned = True
    return event_filter
