"""Version discovery at ``/``, and the v2 version document."""

import pecan

MEDIA_TYPES = [
    {'base': 'application/json',
     'type': 'application/vnd.openstack.telemetry-v2+json'},
    {'base': 'application/xml',
     'type': 'application/vnd.openstack.telemetry-v2+xml'},
]


def version_v2(url):
    """The description of the v2 API served at ``url``.

    The root lists it; ``/v2`` itself answers it as ``{"version": ...}``
    (see panko.api.middleware.V2VersionDocument).
    """
    return {
        'id': 'v2',
        'status': 'stable',
        'updated': '2013-02-13T00:00:00Z',
        'links': [
            {'rel': 'self', 'href': url},
            {'rel': 'describedby', 'type': 'text/html',
             'href': 'https://docs.openstack.org/panko/latest/'},
        ],
        'media-types': MEDIA_TYPES,
    }


class VersionsController:

    @pecan.expose('json', generic=True)
    def index(self):
        """Any other method than GET and HEAD is 405."""
        pecan.abort(405)

    @index.when(method='GET', template='json')
    def index_get(self):
        # application_url honours X-Forwarded-* (http_proxy_to_wsgi).
        base_url = pecan.request.application_url
        return {'versions': {'values': [version_v2(base_url + '/v2')]}}

    index.when(method='HEAD', template='json')(index_get)
