"""Every error answer in one document format.

WSME reports errors inside the controllers as ``{"faultcode",
"faultstring", "debuginfo"}``; Pecan's routing, keystonemiddleware and
WebOb answer with their own bodies. Clients of Panko expect one shape,
``{"error_message": {"faultstring", "faultcode", "debuginfo"}}``, in XML
when they accept only XML, so this middleware rewrites every error
response into it, keeping the status and the other headers.
"""

import json
from xml.etree import ElementTree

from oslo_middleware import base

_FIELDS = ('faultstring', 'faultcode', 'debuginfo')
_JSON = 'application/json'
_XML_TYPES = ('application/xml', 'text/xml')


class ErrorDocuments(base.ConfigurableMiddleware):

    def process_response(self, response, request=None):
        if response.status_int < 400:
            return response
        fault = self._fault_of(response)
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
