"""The events REST API (v2): a Pecan/WSME application behind paste."""

from oslo_config import cfg
from oslo_middleware import sizelimit

#: Default of oslo.middleware's ``[oslo_middleware] max_request_body_size``
#: for panko (oslo.middleware's own is 112 KiB). Ceilometer's http://
#: publisher posts one batch of notifications per request, and an event
#: with its raw notification takes 2 to 20 KiB: 8 MiB holds a batch of
#: several hundred of the largest, while a caller cannot make a worker
#: read and decode an unbounded body.
MAX_REQUEST_BODY_SIZE = 8 * 1024 * 1024

OPTS = [
    cfg.HostAddressOpt('host',
                       default='127.0.0.1',
                       help='Address panko-api listens on.'),
    cfg.PortOpt('port',
                default=8977,
                help='Port panko-api listens on.'),
    cfg.StrOpt('auth_mode',
               default='keystone',
               choices=[('keystone', 'validate tokens with Keystone '
                                     '(keystonemiddleware authtoken)'),
                        ('noauth', 'trust the X-User-Id, X-Project-Id and '
                                   'X-Roles headers; for tests and '
                                   'development only')],
               help='How callers are authenticated.'),
    cfg.StrOpt('paste_config',
               default='api_paste.ini',
               # Panko 10's name for it.
               deprecated_opts=[cfg.DeprecatedOpt('api_paste_config',
                                                  group='DEFAULT')],
               help='The paste pipeline file. A relative name is looked '
                    'up in the configuration directories, then in '
                    'etc/panko of the installation and of the source '
                    'tree.'),
    cfg.IntOpt('default_api_return_limit',
               default=100,
               min=1,
               help='Number of events returned when a request gives no '
                    'limit.'),
    cfg.IntOpt('max_api_return_limit',
               default=1000,
               min=1,
               help='Largest page of events returned; a larger limit is '
                    'lowered to this.'),
    cfg.IntOpt('max_filters',
               default=20,
               min=1,
               help='Most q filters one request may give, in its query '
                    'string and JSON body together; a request with more is '
                    'refused with 400 before they are parsed. Each trait '
                    'filter is a subquery: hundreds of them keep a database '
                    'backend busy for minutes.'),
    cfg.FloatOpt('query_timeout',
                 default=10.0,
                 min=0,
                 help='Seconds one database statement of the API may run; '
                      'a request whose query takes longer is answered 503. '
                      'Enforced by PostgreSQL (statement_timeout), MariaDB '
                      '(max_statement_time), MySQL (max_execution_time, '
                      'reads only), MongoDB (maxTimeMS) and, in the API '
                      'process itself, SQLite. Only the API\'s connections '
                      'are bounded, not the dispatcher\'s or the expirer\'s. '
                      '0 means no limit.'),
]


def set_middleware_defaults():
    """panko's defaults for the oslo.middleware options it relies on."""
    cfg.set_defaults(sizelimit.OPTS,
                     max_request_body_size=MAX_REQUEST_BODY_SIZE)
