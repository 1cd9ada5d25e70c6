"""panko-api: serve the API with a simple threaded server.

For development and tests; production deployments run
``panko.wsgi.api:application`` in uwsgi, mod_wsgi or gunicorn.
"""

import socketserver
from wsgiref import simple_server

from oslo_config import cfg
from oslo_log import log

from panko import service
from panko.api import app

LOG = log.getLogger(__name__)

CLI_OPTS = [
    cfg.PortOpt('port', help='Port to listen on; overrides [api] port.'),
]


class ThreadingWSGIServer(socketserver.ThreadingMixIn,
                          simple_server.WSGIServer):
    daemon_threads = True


def main():
    conf = cfg.ConfigOpts()
    conf.register_cli_opts(CLI_OPTS)
    service.prepare_service(conf=conf)
    service.enable_reports(conf)
    host = conf.api.host
    port = conf.port if conf.port is not None else conf.api.port
    application = app.load_app(conf)
    server = simple_server.make_server(
        host, port, application, server_class=ThreadingWSGIServer)
    LOG.info('Serving the panko API on http://%s:%d/', host,
             server.server_port)
    server.serve_forever()
