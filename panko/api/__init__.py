"""The events REST API (v2): a Pecan/WSME application behind paste."""

from oslo_config import cfg

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
]
