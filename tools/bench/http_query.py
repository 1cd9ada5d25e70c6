"""The query set over HTTP against a running API, any base URL.

The API must run with ``[api] auth_mode = noauth``: the caller's identity
goes in the X-User-Id, X-Project-Id and X-Roles headers.
"""

import functools
import http.client
import json
import re
import shutil
import subprocess
from urllib import parse

from bench import queries


def request_path(prefix, query):
    """The path and query string of ``query`` below the URL path prefix."""
    path = prefix + parse.quote(query.path)
    params = query.params()
    if params:
        path += '?' + parse.urlencode(params)
    return path


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
        path = request_path(self.prefix, query)
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
        result['q1_throughput'] = q1_throughput(base_url, query_set[0])
    return result


def q1_throughput(base_url, query, wrk=None):
    """Requests/s of ``query`` from THREADS clients for SECONDS.

    The clients are wrk's connections when wrk is installed (or given),
    else Python threads, one connection each; ``client`` says which.
    Either way they share the machine with the API: wrk takes a small
    share of a core where the Python threads take most of one.
    """
    wrk = wrk or shutil.which('wrk')
    if wrk:
        return wrk_throughput(wrk, base_url, query)

    def new_client_call():
        # The clients read the answers but do not decode them.
        return functools.partial(Client(base_url).get, query, decode=False)
    return queries.throughput(new_client_call)


def wrk_command(wrk, base_url, query):
    """wrk's command line for ``query``: same URL and headers as Client."""
    url = parse.urlsplit(base_url)
    target = '%s://%s%s' % (url.scheme, url.netloc,
                            request_path(url.path.rstrip('/'), query))
    headers = []
    for name, value in query.identity.headers().items():
        headers += ['--header', '%s: %s' % (name, value)]
    # One thread drives all the connections: the answers are large but
    # few, and each thread of wrk would take CPU from the API.
    return [wrk, '--threads', '1', '--connections', str(queries.THREADS),
            '--duration', '%ds' % queries.SECONDS, '--latency',
            *headers, target]


def wrk_throughput(wrk, base_url, query):
    """Run wrk for ``query``; its figures as queries.throughput gives them.

    An answer other than 2xx or 3xx is an error, as for the Python
    clients. wrk counts the connections uwsgi's http-socket closes after
    each answer as read errors: they are reported, not errors.
    """
    command = wrk_command(wrk, base_url, query)
    output = subprocess.run(command, capture_output=True, text=True,
                            check=True, timeout=queries.SECONDS + 60).stdout
    result = parse_wrk_output(output)
    if result['non_2xx_3xx'] or not result['requests']:
        raise RuntimeError('%s: %d of %d answers were errors:\n%s'
                           % (query.name, result['non_2xx_3xx'],
                              result['requests'], output))
    return dict(result, client='wrk', clients=queries.THREADS,
                seconds=queries.SECONDS)


def parse_wrk_output(output):
    """The figures of wrk's report (with --latency)."""
    def number(pattern, default=None):
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            if default is None:
                raise ValueError('no %r in the output of wrk:\n%s'
                                 % (pattern, output))
            return default
        return float(match.group(1))

    errors = re.search(r'Socket errors: connect (\d+), read (\d+), '
                       r'write (\d+), timeout (\d+)', output)
    socket_errors = {}
    if errors:
        socket_errors = dict(zip(('connect', 'read', 'write', 'timeout'),
                                 map(int, errors.groups()), strict=True))
    latency = {}
    for percent in (50, 99):
        match = re.search(r'^\s+%d%%\s+([\d.]+)(us|ms|s)\s*$' % percent,
                          output, re.MULTILINE)
        if match:
            latency['p%d_ms' % percent] = round(
                float(match.group(1)) * _MS_PER[match.group(2)], 1)
    return {'requests_per_second': round(number(r'^Requests/sec:\s+([\d.]+)'),
                                         1),
            'requests': int(number(r'^\s+(\d+) requests in ')),
            'non_2xx_3xx': int(number(r'^\s+Non-2xx or 3xx responses: (\d+)',
                                      0)),
            'socket_errors': socket_errors,
            'latency': latency}


_MS_PER = {'us': 0.001, 'ms': 1, 's': 1000}


def _marker(client, query, pages):
    marker = None
    for _ in range(pages):
        query.marker = marker
        marker = client.get(query)[-1]['message_id']
    query.marker = None
    return marker
