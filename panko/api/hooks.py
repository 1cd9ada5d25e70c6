"""Pecan hooks giving each request the configuration, store and policy."""

import functools

from oslo_context import context
from oslo_log import log
from pecan import hooks

from panko import storage
from panko.api.controllers.v2 import base

LOG = log.getLogger(__name__)


class ConfigHook(hooks.PecanHook):
    def __init__(self, conf):
        self.conf = conf

    def before(self, state):
        state.request.cfg = self.conf


class StorageHook(hooks.PecanHook):
    """``request.storage``: the storage connection, guarded."""

    def __init__(self, connection):
        self.storage = GuardedStorage(connection)

    def before(self, state):
        state.request.storage = self.storage


class ContextHook(hooks.PecanHook):
    """The caller's ``request.context``, and one log line per request.

    oslo.context keeps the newest context of each thread, and oslo.log
    writes its request id, user and project on every line logged while
    the request is served (``logging_context_format_string``). It is made
    as soon as the request is routed, so that no line logged for this
    request carries the context of the thread's previous one.
    """

    def on_route(self, state):
        state.request.context = context.RequestContext.from_environ(
            state.request.environ)

    def after(self, state):
        LOG.info('%s %s: %s', state.request.method, state.request.path_qs,
                 state.response.status)


class PolicyHook(hooks.PecanHook):
    """``request.enforcer``, to check the caller's ``request.context``."""

    def __init__(self, enforcer):
        self.enforcer = enforcer

    def before(self, state):
        state.request.enforcer = self.enforcer


class FilterParametersHook(hooks.PecanHook):
    """Check ``q.*`` query parameters before WSME parses them."""

    def before(self, state):
        base.check_filter_parameters(state.request.params)


class GuardedStorage:
    """A storage connection whose outages are 503s, not tracebacks."""

    def __init__(self, connection):
        self._connection = connection

    def __getattr__(self, name):
        method = getattr(self._connection, name)

        @functools.wraps(method)
        def guarded(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except storage.StorageUnavailable:
                raise base.ServiceUnavailable(
                    'The event store is unavailable; retry later.')
        return guarded

