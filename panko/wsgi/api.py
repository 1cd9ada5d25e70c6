"""The API for WSGI servers: point uwsgi or mod_wsgi at ``application``.

The configuration is read from the default places (/etc/panko/panko.conf
and the like); the server's own command line is not ours to parse.
"""

from panko import service
from panko.api import app

application = app.load_app(service.prepare_service([]))
