"""Optional osprofiler tracing of the API and of its SQL queries.

Everything here does nothing unless osprofiler is installed and
``[profiler] enabled`` is true: panko does not depend on osprofiler. When
enabled, the API's paste pipeline gets osprofiler's WSGI middleware, which
traces the requests signed with one of ``[profiler] hmac_keys`` (``openstack
--os-profile KEY ...``), the SQL driver traces its queries when ``[profiler]
trace_sqlalchemy`` is true, and the traces go where ``[profiler]
connection_string`` says.
"""

import socket

from oslo_utils import importutils
import sqlalchemy

initializer = importutils.try_import('osprofiler.initializer')
opts = importutils.try_import('osprofiler.opts')
osprofiler_sqlalchemy = importutils.try_import('osprofiler.sqlalchemy')
web = importutils.try_import('osprofiler.web')


def register_opts(conf):
    """Register the ``[profiler]`` options when osprofiler is installed.

    By the group's name: osprofiler's own ``set_defaults`` registers one
    module-level group object, whose overrides every configuration object
    of the process would then share.
    """
    if opts is not None:
        for group, options in opts.list_opts():
            conf.register_opts(options, group=group)


def enabled(conf):
    """Whether to trace.

    Never for the commands that do not register the options at all, such
    as panko-status.
    """
    return opts is not None and 'profiler' in conf and conf.profiler.enabled


def wsgi_middleware(application, conf):
    """``application`` traced by osprofiler, or itself when disabled."""
    if not enabled(conf):
        return application
    initializer.init_from_conf(conf=conf, context={}, project='panko',
                               service='api', host=socket.gethostname())
    return web.WsgiMiddleware(application, hmac_keys=conf.profiler.hmac_keys,
                              enabled=True)


def trace_engine(conf, engine):
    """Trace the SQL queries of ``engine`` within a traced request."""
    if enabled(conf) and conf.profiler.trace_sqlalchemy:
        osprofiler_sqlalchemy.add_tracing(sqlalchemy, engine, 'db')
