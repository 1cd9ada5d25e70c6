"""Entry points for WSGI servers (uwsgi, mod_wsgi, gunicorn)."""
