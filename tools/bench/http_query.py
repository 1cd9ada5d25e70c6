"""The query set over HTTP against a running API, any base URL.

The API must run with ``[api] auth_mode = noauth``: the caller's identity
goes in the X-User-Id, X-Project-Id and X-Roles headers.
"""

import functools
import http.client
import json
from urllib import parse

from bench import queries


class Client:
    """One keep-alive HTTP connection to the API."""

    def __init__(self, base_url):
        url = parse.urlsplit(base_url)
        connection_class = (http.client.HTTPSConnection
                            if url.scheme == 'https'
                            else http.client.HTTPConnection)
        self.prefix = url.path.rstrip('/')
        self.connection = connection_class(url.netloc, timeout=60)

    def get(self, query, decode=True):
        """The answer's events (a list) or, not decoded, its size."""
        path = self.prefix + parse.quote(query.path)
        params = query.params()
        if params:
            path += '?' + parse.urlencode(params)
        try:
            response = self._send(path, query)
        except (http.client.RemoteDisconnected, ConnectionResetError):
            # The server closed the kept-alive connection (uwsgi's
            # http-socket does after each response): open a new one.
            self.connection.close()
            response = self._send(path, query)
        body = response.read()
        if response.status != 200:
            raise RuntimeError('%s %s: %d %s' % (query.name, path,
                                                 response.status, body[:300]))
        if not decode:
            return body
        document = json.loads(body)
        return document if isinstance(document, list) else [document]


    def _send(self, path, query):
        self.connection.request('GET', path,
                                headers=query.identity.headers())
        return self.connection.getresponse()


def run(base_url, seed, throughput=True):
    client = Client(base_url)
    query_set = queries.standard_set(
        seed, lambda query, pages: _marker(client, query, pages))
    rows = []
    for query in query_set:
        figures = queries.measure(lambda query=query: client.get(query))
        rows.append(dict(name=query.name, title=query.title, **figures))
    result = {'url': base_url, 'mode': 'http', 'queries': rows}
    if throughput:
        first = query_set[0]

        def new_client_call():
            # The clients share the machine with the API: they read the
            # answers but do not decode them.
            return functools.partial(Client(base_url).get, first,
                                     decode=False)
        result['q1_throughput'] = queries.throughput(new_client_call)
    return result


def _marker(client, query, pages):
    marker = None
    for _ in range(pages):
        query.marker = marker
        marker = client.get(query)[-1]['message_id']
    query.marker = None
    return marker
