"""The API for WSGI servers: point uwsgi, gunicorn or mod_wsgi here.

The configuration is read from the default places (/etc/panko/panko.conf
and the like); the server's own command line is not ours to parse.

Importing this module reads no configuration and opens no database, so
that ``python3 -c 'import panko.wsgi.api'`` works anywhere (to find the
file for mod_wsgi, for instance). ``application`` builds the API on its
first request; ``build_application()`` builds it at once, for servers
that should refuse to start on a broken configuration
(``panko.wsgi.api:build_application()`` in uwsgi or gunicorn).
"""

import threading

from panko import service
from panko.api import app


def build_application():
    """The API, from the configuration files in the default places."""
    return app.load_app(service.prepare_service([]))


class LazyApplication:
    """A WSGI application that builds the API on its first request.

    A failed build is not remembered: the next request tries again, so
    that a fixed configuration or a database back up needs no restart.
    """

    def __init__(self, build):
        self._build = build
        self._application = None
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if self._application is None:
            with self._lock:
                if self._application is None:
                    self._application = self._build()
        return self._application(environ, start_response)


application = LazyApplication(build_application)
