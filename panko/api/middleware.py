"""The paste middleware of the API: error documents and input checks.

``ErrorDocuments`` gives every error answer one document format.
WSME reports errors inside the controllers as ``{"faultcode",
"faultstring", "debuginfo"}``; Pecan's routing, keystonemiddleware,
oslo.middleware and WebOb answer with their own bodies. Clients of Panko
expect one shape, ``{"error_message": {"faultstring", "faultcode",
"debuginfo"}}``, in XML when they accept only XML, so this middleware
rewrites every error response into it, keeping the status and the other
headers. An unexpected failure says only that it is one, with the request
id to find its traceback in the log: never an exception's text, which may
hold SQL and the values bound to it.

``InputChecks`` refuses what the API cannot take before Pecan and WSME
parse it (see its docstring). ``V2VersionDocument`` answers ``/v2``
itself, before authtoken.
"""

import json
import math
import re
from xml.etree import ElementTree

from oslo_log import log
from oslo_middleware import base
from oslo_middleware import request_id
from oslo_middleware import sizelimit
import webob.dec
import webob.exc

from panko import safe_text
from panko.api.controllers import root

LOG = log.getLogger(__name__)

_FIELDS = ('faultstring', 'faultcode', 'debuginfo')
_JSON = 'application/json'
_XML_TYPES = ('application/xml', 'text/xml')
#: Longest faultstring answered; longer ones are cut.
MAX_FAULTSTRING = 1000


class ErrorDocuments(base.ConfigurableMiddleware):

    def __init__(self, application, conf=None):
        super().__init__(application, conf)
        # To name the limit in a 413 (the sizelimit filter's own text
        # does not).
        self.oslo_conf.register_opts(sizelimit.OPTS, group='oslo_middleware')

    @webob.dec.wsgify
    def __call__(self, request):
        try:
            response = request.get_response(self.application)
        except Exception:
            LOG.exception('Internal error answering %s %s', request.method,
                          safe_text.brief(request.path_qs, 200))
            response = webob.Response(status=500)
        return self.process_response(response, request)

    def process_response(self, response, request=None):
        if response.status_int < 400:
            return response
        fault = self._fault_of(response)
        if response.status_int == 413:
            fault['faultstring'] = (
                'The request body is larger than %d bytes, the limit of '
                '[oslo_middleware] max_request_body_size'
                % self.oslo_conf.oslo_middleware.max_request_body_size)
        elif response.status_int >= 500 and response.status_int != 503:
            # 503 is panko's own "retry later", with a text of its own.
            fault['faultstring'] = 'Internal error (request %s)' % (
                request.environ.get(request_id.ENV_REQUEST_ID))
            fault['debuginfo'] = None
        fault['faultstring'] = safe_text.escaped(fault['faultstring'],
                                                 MAX_FAULTSTRING)
        if self._wants_xml(request):
            body = self._to_xml(fault)
            content_type = 'application/xml'
        else:
            body = json.dumps({'error_message': fault}).encode('utf-8')
            content_type = _JSON
        response.body = body
        response.content_type = content_type
        response.charset = 'UTF-8'
        return response

    @staticmethod
    def _wants_xml(request):
        offers = request.accept.acceptable_offers((_JSON,) + _XML_TYPES)
        return bool(offers) and offers[0][0] in _XML_TYPES

    @staticmethod
    def _fault_of(response):
        """The fault WSME wrote, or one made from the status."""
        fault = {'faultstring': response.status.split(' ', 1)[1],
                 'faultcode': ('Client' if response.status_int < 500
                               else 'Server'),
                 'debuginfo': None}
        written = _parse_fault(response)
        fault.update((key, written[key]) for key in _FIELDS
                     if written.get(key) is not None)
        return fault

    @staticmethod
    def _to_xml(fault):
        root = ElementTree.Element('error_message')
        for key in _FIELDS:
            ElementTree.SubElement(root, key).text = fault[key]
        return ElementTree.tostring(root, encoding='utf-8',
                                    xml_declaration=True)


def _parse_fault(response):
    """The fields of a WSME error body (JSON or XML), or {}."""
    if response.content_type == _JSON:
        try:
            document = json.loads(response.body)
        except ValueError:
            return {}
        if not isinstance(document, dict):
            return {}
        if isinstance(document.get('error'), dict):
            # keystonemiddleware's {"error": {"code", "title", "message"}}
            return {'faultstring': document['error'].get('message')}
        return document.get('error_message', document)
    if response.content_type in _XML_TYPES:
        try:
            # Only ever WSME's own output: the body of our application.
            root = ElementTree.fromstring(response.body)  # noqa: S314
        except ElementTree.ParseError:
            return {}
        return {child.tag: child.text for child in root}
    return {}


class DefaultIdentity:
    """Take callers that send no identity as one configured identity.

    For the quickstart only (``etc/panko/api_paste_quickstart.ini``):
    clients that cannot send the noauth headers, such as the openstack
    CLI without Keystone, then get answers. A caller that sends a user or
    a project is left alone, so the usual noauth rules apply to it.
    """

    def __init__(self, application, user_id, project_id, roles):
        self.application = application
        self.identity = {'HTTP_X_USER_ID': user_id,
                         'HTTP_X_PROJECT_ID': project_id,
                         'HTTP_X_ROLES': roles}

    def __call__(self, environ, start_response):
        if not (environ.get('HTTP_X_USER_ID')
                or environ.get('HTTP_X_PROJECT_ID')):
            environ.update(self.identity)
        return self.application(environ, start_response)


def default_identity_factory(global_conf, user_id, project_id, roles=''):
    """Paste filter factory of DefaultIdentity; the identity is local."""
    def make_filter(application):
        return DefaultIdentity(application, user_id, project_id, roles)
    return make_filter


#: Deepest nesting of arrays and objects a JSON body may have. Events are
#: a few levels deep (a list of events, an event, its raw notification,
#: the payload's objects); the limit keeps every parser and the recursive
#: code behind them (signatures, encoding the raw document) well away from
#: Python's recursion limit, which a few thousand ``[`` reached.
MAX_JSON_DEPTH = 32

_JSON_TYPES = ('application/json', 'application/javascript',
               'text/javascript')
#: A JSON string; unrolled, so that long strings are matched in C loops.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b'[]{}'))
_INNERMOST_PAIR = re.compile(rb'\[\]|\{\}')


class InvalidRequest(Exception):
    """A request the API refuses; ``status`` is 400 unless told."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


class InputChecks:
    """Refuse input that no controller can take, before it is parsed.

    Pecan decodes the query string, and the JSON body of every request
    but a GET; WSME decodes both again into objects; the storage drivers
    send the values to the database. Input that would fail at any of
    those steps with an internal error, or cost far more than an answer
    is worth, is refused here with a 4xx naming the problem:

    - a path, query string or body that is not UTF-8 (400);
    - a NUL character in the path, the query string, or the strings of a
      query's JSON body, and a lone surrogate in the latter (400);
    - more ``q`` filters than ``[api] max_filters`` (400), counted before
      any of them is parsed;
    - a body that is not JSON (415), or JSON nested deeper than
      MAX_JSON_DEPTH (400): its depth is measured on the bytes, so that a
      POST is not decoded before its caller's right to post is checked.

    The body's size is bounded before this by oslo.middleware's sizelimit
    filter (``[oslo_middleware] max_request_body_size``).
    """

    def __init__(self, application, conf):
        self.application = application
        self.conf = conf

    @webob.dec.wsgify
    def __call__(self, request):
        try:
            self.check(request)
        except InvalidRequest as e:
            return webob.Response(status=e.status,
                                  json_body={'faultstring': str(e)})
        return request.get_response(self.application)

    def check(self, request):
        _check_path(request.environ.get('PATH_INFO', ''))
        try:
            params = request.GET
        except UnicodeDecodeError:
            raise InvalidRequest('The query string is not valid UTF-8')
        for name, value in params.items():
            _check_text('Query parameter %s' % safe_text.brief(name), name)
            _check_text('Query parameter %s' % safe_text.brief(name), value)
        filters = len(params.getall('q.field'))
        body = request.body if request.is_body_readable else b''
        if body:
            document = self._check_body(request, body)
            if isinstance(document, dict) and 'q' in document:
                filters += _filters_of(document['q'])
        if filters > self.conf.api.max_filters:
            raise InvalidRequest(
                'Too many filters: %d q filters given, at most %d are '
                'allowed ([api] max_filters)'
                % (filters, self.conf.api.max_filters))

    @staticmethod
    def _check_body(request, body):
        """Check a body; return the document of a query (not of a POST)."""
        if request.content_type not in _JSON_TYPES:
            raise InvalidRequest(
                'Request bodies must be JSON (Content-Type: '
                'application/json), not %s'
                % safe_text.brief(request.content_type), status=415)
        if request.charset.lower().replace('-', '') != 'utf8':
            raise InvalidRequest('JSON bodies must be encoded in UTF-8, not '
                                 '%s' % safe_text.brief(request.charset),
                                 status=415)
        try:
            text = body.decode('utf-8')
        except UnicodeDecodeError:
            raise InvalidRequest('The request body is not valid UTF-8')
        if _depth_exceeds(body, MAX_JSON_DEPTH):
            raise InvalidRequest(
                'The request body nests arrays and objects deeper than %d '
                'levels' % MAX_JSON_DEPTH)
        if request.method == 'POST':
            # Events: decoded once their poster is authorized, and
            # validated one by one (panko.ingestion).
            return None
        try:
            document = json.loads(text)
        except ValueError as e:
            raise InvalidRequest('The request body is not valid JSON: %s'
                                 % e)
        _check_strings(document)
        if isinstance(document, dict):
            _check_members(document)
        return document


def _check_path(path):
    """WSGI gives the path as its bytes decoded as latin-1."""
    try:
        path.encode('latin-1').decode('utf-8')
    except UnicodeError:
        raise InvalidRequest('The path is not valid UTF-8')
    _check_text('The path', path)


def _check_text(what, text):
    """Refuse NUL characters; the text was decoded as UTF-8 already."""
    if '\x00' in text:
        raise InvalidRequest('%s contains a NUL character' % what)


def _check_strings(document):
    """Refuse NUL characters and lone surrogates in a query's strings.

    No database can compare them: PostgreSQL refuses NUL, and no driver
    can encode a surrogate.
    """
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            if '\x00' in value:
                raise InvalidRequest('A string of the request body contains '
                                     'a NUL character')
            try:
                value.encode('utf-8')
            except UnicodeEncodeError:
                raise InvalidRequest('A string of the request body contains '
                                     'a lone surrogate (\\ud800-\\udfff)')


def _check_members(document):
    """The scalar members of a listing's JSON body, which WSME passes on
    unchecked (a marker given as a list reached the database)."""
    limit = document.get('limit')
    if isinstance(limit, float):
        acceptable = math.isfinite(limit)
    else:
        acceptable = limit is None or isinstance(limit, (int, str))
    if not acceptable:
        raise InvalidRequest('limit must be a positive integer, not %s'
                             % safe_text.brief(limit))
    marker = document.get('marker')
    if not (marker is None or isinstance(marker, str)):
        raise InvalidRequest('marker must be the message_id of an event, '
                             'not %s' % safe_text.brief(marker))


def _filters_of(q):
    """The number of filters in a JSON body's ``q``, which must be a list
    of objects (WSME fails on anything else in it)."""
    if not isinstance(q, list):
        return 0  # WSME answers "Value not a valid list".
    if not all(isinstance(query, dict) for query in q):
        raise InvalidRequest('q must be a list of filter objects '
                             '{"field", "op", "value", "type"}')
    return len(q)


def _depth_exceeds(body, limit):
    """Whether the JSON text ``body`` nests deeper than ``limit`` levels.

    Measured without decoding: strings removed, only the brackets kept,
    then the innermost pairs removed once per level. Brackets that do not
    pair up are not JSON: InvalidRequest.
    """
    brackets = _JSON_STRING.sub(b'', body).translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        paired = _INNERMOST_PAIR.sub(b'', brackets)
        if paired == brackets:
            # WSME's words for it.
            raise InvalidRequest('Request is not in valid JSON format')
        brackets = paired
    return bool(brackets)


class V2VersionDocument(base.ConfigurableMiddleware):
    """``GET /v2`` and ``/v2/``: the v2 version document, without a token.

    ``{"version": {...}}``, the entry the root lists for v2. It stands
    before authtoken in the v2 pipelines: as the root's document, it is
    version discovery, which clients (keystoneauth reading the versioned
    endpoint of the catalog) do before they have a token. Another method
    than GET and HEAD is 405, as at the root; any request for a resource
    under ``/v2`` goes on to the API.
    """

    @webob.dec.wsgify
    def __call__(self, request):
        # The WSGI string: path_info would decode it, and fail on bytes
        # that are not UTF-8, which InputChecks answers.
        if request.environ.get('PATH_INFO', '') not in ('', '/'):
            return request.get_response(self.application)
        if request.method not in ('GET', 'HEAD'):
            return webob.exc.HTTPMethodNotAllowed(
                headers={'Allow': 'GET, HEAD'})
        # Under /v2 of the urlmap, application_url is the v2 URL, with the
        # X-Forwarded-* headers honoured (http_proxy_to_wsgi).
        return webob.Response(json_body={
            'version': root.version_v2(request.application_url)})
