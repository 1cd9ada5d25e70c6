"""One place where every panko command builds its configuration."""

from oslo_config import cfg
from oslo_db import options as db_options
from oslo_log import log
from oslo_reports import guru_meditation_report as gmr
from oslo_reports import opts as gmr_opts
from oslo_reports.generators import conf as conf_generator
from pbr import version

from panko import api
from panko import opts
from panko import profiler


def register_options(conf):
    """Register every option panko reads, with panko's defaults.

    For commands whose framework parses the command line itself
    (panko-status); the others call prepare_service().
    """
    log.register_options(conf)
    log.set_defaults(default_log_levels=log.get_default_log_levels() + [
        'alembic.runtime.plugins=WARN'])
    api.set_middleware_defaults()
    register_panko_options(conf)
    profiler.register_opts(conf)


def register_panko_options(conf):
    """Register panko's own options (opts.list_opts) and database options.

    Only on ``conf``: unlike register_options(), this sets no default of
    the whole process (oslo.log's, oslo.middleware's), so the ``panko://``
    publisher calls it inside Ceilometer's processes.
    """
    db_options.set_defaults(conf)
    for group, options in opts.list_opts():
        conf.register_opts(list(options),
                           group=None if group == 'DEFAULT' else group)


def prepare_service(argv=None, config_files=None, conf=None):
    """Parse the command line and config files, and set up logging.

    Every command (API, dispatcher, dbsync, expirer) calls this first so
    that options, defaults and logging behave the same everywhere.
    """
    if conf is None:
        conf = cfg.ConfigOpts()
    register_options(conf)
    conf(argv, project='panko', validate_default_values=True,
         default_config_files=config_files)
    log.setup(conf, 'panko')
    return conf


def enable_reports(conf):
    """Write a Guru Meditation Report on SIGUSR2, as OpenStack services do.

    The report (threads, stacks, configuration, package) goes to stderr,
    or to a file in ``[oslo_reports] log_dir``; with ``[oslo_reports]
    file_event_handler``, touching that file triggers it instead. Its
    "Configuration" section shows oslo.config's global object, which panko
    does not use: panko's own options are in "Panko configuration".
    """
    gmr_opts.set_defaults(conf)
    gmr.TextGuruMeditation.register_section(
        'Panko configuration', conf_generator.ConfigReportGenerator(conf))
    gmr.TextGuruMeditation.setup_autorun(
        version.VersionInfo('panko'), conf=conf)
