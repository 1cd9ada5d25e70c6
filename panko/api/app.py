"""Build the API's WSGI application from the configuration.

The paste pipeline (``api_paste.ini``) names the factories of this module.
Paste cannot carry a ``ConfigOpts`` object, so ``load_app`` registers the
configuration under a key that the factories receive in ``global_conf``;
every middleware then reads the same configuration as the application
instead of loading the config files again.
"""

import functools
import os
import sys
import uuid

from keystonemiddleware import auth_token
from oslo_config import cfg
from oslo_log import log
from oslo_middleware import healthcheck
from oslo_utils import importutils
from paste import deploy
import pecan
import pecan.util

import panko
from panko import profiler
from panko import storage
from panko.api import hooks
from panko.api import policies
from panko.api.controllers import root
from panko.api.controllers.v2 import documents
from panko.api.controllers.v2 import root as v2_root

LOG = log.getLogger(__name__)

#: Configurations of the applications being built, by key (see module doc).
_CONFIGS = {}


def setup_app(conf):
    """The bare v2 Pecan application, without the paste middleware."""
    remember_pecan_argspecs()
    query_timeout = conf.api.query_timeout
    # Reads from [database] slave_connection when it is set.
    connection = storage.get_connection_from_config(
        conf, query_timeout=query_timeout, replica=True)
    app_hooks = [hooks.ContextHook(),
                 hooks.ConfigHook(conf),
                 hooks.StorageHook(connection, query_timeout),
                 hooks.PolicyHook(policies.get_enforcer(conf)),
                 hooks.FilterParametersHook(),
                 hooks.InternalErrorHook()]
    # Event types contain dots: never read a dot as a file extension.
    return pecan.make_app(
        v2_root.V2Controller(),
        hooks=app_hooks,
        custom_renderers={'wsmejson': documents.JSONRenderer},
        guess_content_type_from_ext=False)


def remember_pecan_argspecs():
    """Make Pecan inspect each controller's signature once, not per request.

    Pecan reads the signature of the controller it routes to seven times
    per request, and its ``getargspec`` builds a new namedtuple class each
    time: 40% of the CPU that Pecan, WSME and the middleware spend on a
    request. Signatures do not change, so they are remembered per
    function; Pecan only reads the argspecs it gets.

    The function replaced is private to Pecan (requirements.txt caps its
    version): a Pecan without it keeps its own behaviour, slower only.
    """
    if _pecan_getargspec is None:
        _warn_argspecs_not_remembered()
        return
    pecan.util._getargspec = _remembered_argspec


#: Pecan's own, which pecan.util.getargspec calls for each layer of
#: decorators of a controller; None in a Pecan that has none.
_pecan_getargspec = getattr(pecan.util, '_getargspec', None)

#: Functions whose argspec is remembered: the controllers and the layers
#: of their decorators are a few dozen; the bound is a safety net.
ARGSPEC_CACHE_SIZE = 512


def _remembered_argspec(function):
    # A bound method has the argspec of its function, self included.
    return _argspec_of(getattr(function, '__func__', function))


@functools.lru_cache(maxsize=ARGSPEC_CACHE_SIZE)
def _argspec_of(function):
    return _pecan_getargspec(function)


@functools.cache
def _warn_argspecs_not_remembered():
    """Warn once per process, however many applications it builds."""
    LOG.warning('This Pecan has no pecan.util._getargspec: the API reads '
                'the signature of a controller on every request, as Pecan '
                'does, which is slower')


def find_paste_config(conf):
    """The absolute path of the paste file the configuration names."""
    name = conf.api.paste_config
    if os.path.isabs(name):
        candidates = [name]
    else:
        source_tree = os.path.join(os.path.dirname(panko.__file__), '..')
        candidates = [conf.find_file(name)] + [
            os.path.join(prefix, 'etc', 'panko', name)
            for prefix in (sys.prefix, source_tree)]
    for path in candidates:
        if path and os.path.exists(path):
            return os.path.abspath(path)
    raise cfg.ConfigFilesNotFoundError([name])


def load_app(conf):
    """The application with the paste pipeline of ``[api] auth_mode``."""
    path = find_paste_config(conf)
    key = uuid.uuid4().hex
    _CONFIGS[key] = conf
    LOG.info('Loading the API pipeline panko+%s from %s',
             conf.api.auth_mode, path)
    try:
        return deploy.loadapp('config:' + path,
                              name='panko+' + conf.api.auth_mode,
                              global_conf={'configkey': key})
    finally:
        del _CONFIGS[key]


def v2_factory(global_conf, **local_conf):
    return setup_app(_CONFIGS[global_conf['configkey']])


def versions_factory(global_conf, **local_conf):
    return pecan.make_app(root.VersionsController(),
                          guess_content_type_from_ext=False)


def healthcheck_factory(global_conf, **local_conf):
    return healthcheck.Healthcheck(None, _CONFIGS[global_conf['configkey']])


def filter_factory(global_conf, middleware_class):
    """An oslo.middleware (or panko) filter built with our configuration."""
    conf = _CONFIGS[global_conf['configkey']]
    middleware_class = importutils.import_class(middleware_class)

    def make_filter(app):
        return middleware_class(app, conf)
    return make_filter


def profiler_factory(global_conf, **local_conf):
    """osprofiler's middleware when ``[profiler] enabled``, else nothing."""
    conf = _CONFIGS[global_conf['configkey']]

    def make_filter(app):
        return profiler.wsgi_middleware(app, conf)
    return make_filter


def authtoken_factory(global_conf, **local_conf):
    """keystonemiddleware's authtoken, reading [keystone_authtoken]."""
    conf = _CONFIGS[global_conf['configkey']]

    def make_filter(app):
        return auth_token.AuthProtocol(app, {'oslo_config_config': conf})
    return make_filter
