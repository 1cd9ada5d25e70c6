"""Pecan hooks giving each request the configuration, store and policy."""

import functools

from oslo_context import context
from oslo_log import log
from pecan import hooks
import webob
import webob.exc

from panko import safe_text
from panko import storage
from panko.api import errors
from panko.api import query
from panko.api import rbac

LOG = log.getLogger(__name__)


class ConfigHook(hooks.PecanHook):
    def __init__(self, conf):
        self.conf = conf

    def before(self, state):
        state.request.cfg = self.conf


class StorageHook(hooks.PecanHook):
    """``request.storage``: the storage connection, guarded."""

    def __init__(self, connection, query_timeout=0):
        self.storage = GuardedStorage(connection, query_timeout)

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
        LOG.info('%s %s: %s', state.request.method,
                 safe_text.brief(state.request.path_qs, 200),
                 state.response.status)


class PolicyHook(hooks.PecanHook):
    """``request.enforcer``, to check the caller's ``request.context``.

    The right to post is checked here, before routing: Pecan decodes the
    JSON body of a POST to route it (and WSME decodes it again), which a
    caller who may not post must not make the API do. ``POST
    /v2/events`` is the only POST of the API.
    """

    def __init__(self, enforcer):
        self.enforcer = enforcer

    def on_route(self, state):
        state.request.enforcer = self.enforcer
        if (state.request.method == 'POST'
                and not rbac.allowed(rbac.CREATE_RULE)):
            raise webob.exc.HTTPForbidden(json_body={
                'faultstring': errors.Forbidden().faultstring})


class InternalErrorHook(hooks.PecanHook):
    """An exception outside the controllers: logged, and a bare 500.

    WSME answers the exceptions of the controllers; one raised while
    Pecan routes or runs a hook would otherwise escape Pecan, after its
    request was logged as answered 200. ErrorDocuments writes the fault.
    """

    def on_error(self, state, error):
        if isinstance(error, webob.exc.HTTPException):
            return None
        LOG.error('Internal error answering %s %s', state.request.method,
                  safe_text.brief(state.request.path_qs, 200), exc_info=error)
        state.response = webob.Response(status=500)
        return state.response


class FilterParametersHook(hooks.PecanHook):
    """Check ``q.*`` query parameters before WSME parses them."""

    def before(self, state):
        query.check_filter_parameters(state.request.params)


class GuardedStorage:
    """A storage connection whose outages are 503s, not tracebacks."""

    def __init__(self, connection, query_timeout=0):
        self._connection = connection
        self._query_timeout = query_timeout

    def __getattr__(self, name):
        method = getattr(self._connection, name)

        @functools.wraps(method)
        def guarded(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except storage.QueryTimeout:
                LOG.warning('A query took longer than [api] query_timeout',
                            exc_info=True)
                raise errors.ServiceUnavailable(
                    'The query took longer than [api] query_timeout (%g '
                    'seconds) allows; narrow it with filters or a smaller '
                    'limit' % self._query_timeout)
            except storage.StorageUnavailable as e:
                # The text names the database: primary or read replica.
                LOG.warning('Answering 503: %s', e)
                raise errors.ServiceUnavailable(
                    'The event store is unavailable; retry later.')
        return guarded

