"""The errors the API answers, each with its status.

WSME answers the ``ClientSideError`` ones with their status and text;
``ServiceUnavailable`` carries its own ``code`` and ``faultcode``.
"""

import wsme.exc

from panko import safe_text


class InvalidInput(wsme.exc.InvalidInput):
    """400: a parameter's value is not acceptable; says which and why."""

    def __init__(self, fieldname, value, msg=''):
        super().__init__(fieldname, safe_text.brief(value), msg)


class InvalidFilter(wsme.exc.ClientSideError):
    """400: a ``q`` filter is not acceptable; the text says which."""


class InvalidBody(wsme.exc.ClientSideError):
    """400: the request body is not acceptable; the text says why."""


class Forbidden(wsme.exc.ClientSideError):
    def __init__(self, message='Access was denied to this resource.'):
        super().__init__(message, status_code=403)


class NotFound(wsme.exc.ClientSideError):
    def __init__(self, message):
        super().__init__(message, status_code=404)


class ServiceUnavailable(Exception):
    """503: the event store cannot answer now; the client may retry."""

    code = 503
    faultcode = 'Server'
