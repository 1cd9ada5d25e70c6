"""Command line of the benchmark suite."""

import argparse

from bench import databases
from bench import dispatcher
from bench import expire
from bench import footprint
from bench import http_query
from bench import ingest
from bench import load
from bench import report
from bench import storage_query


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='benchmark.py', description='Benchmarks of panko.')
    commands = parser.add_subparsers(dest='command', required=True)

    sub = commands.add_parser(
        'ingest', help='events/s through record_events, batches of 100, '
                       'into an empty store')
    sub.add_argument('--engine', action='append', choices=databases.ENGINES,
                     help='engine to measure (repeatable; default all)')
    sub.add_argument('--events', type=int, default=100000)
    sub.add_argument('--partitioned', action='store_true',
                     help="partition PostgreSQL's store by time")
    _common(sub)
    sub.set_defaults(func=_ingest)

    sub = commands.add_parser(
        'dispatcher', help='events/s from a RabbitMQ backlog through '
                           'panko-dispatcher into PostgreSQL')
    sub.add_argument('--events', type=int, default=100000)
    sub.add_argument('--sizes', default='100,1',
                     help='events per message, comma-separated '
                          '(default 100,1)')
    sub.add_argument('--workers', default='1,2',
                     help='worker counts, comma-separated (default 1,2)')
    sub.add_argument('--batch-size', type=int,
                     help='[dispatcher] batch_size (default: its default)')
    sub.add_argument('--prefetch', type=int,
                     help='[oslo_messaging_rabbit] rabbit_qos_prefetch_count'
                          " (default: the dispatcher's)")
    _common(sub)
    sub.set_defaults(func=_dispatcher)

    sub = commands.add_parser(
        'load', help='fill a store to N events quickly (bulk paths)')
    _target(sub)
    sub.add_argument('--events', type=int, default=1000000)
    sub.add_argument('--create', action='store_true',
                     help='drop and create the database first (the one '
                          '--url names, else panko_bench)')
    sub.add_argument('--workers', type=int, default=2,
                     help='processes generating rows (default 2)')
    sub.add_argument('--partitioned', action='store_true',
                     help='partition a new PostgreSQL database by time '
                          '([database] partitioning = auto)')
    _common(sub)
    sub.set_defaults(func=_load)

    sub = commands.add_parser(
        'expire', help='expire the oldest day of a loaded PostgreSQL store '
                       'while events are written and read alongside')
    _target(sub)
    sub.add_argument('--rate', type=int, default=1000,
                     help='events/s recorded meanwhile (default 1000)')
    _common(sub)
    sub.set_defaults(func=_expire)

    sub = commands.add_parser(
        'storage-query', help='the query set through the storage driver')
    _target(sub)
    sub.add_argument('--no-throughput', action='store_true')
    _common(sub)
    sub.set_defaults(func=_storage_query)

    sub = commands.add_parser(
        'query', help='the query set over HTTP (API in noauth mode)')
    sub.add_argument('--url', default='http://127.0.0.1:8977',
                     help='base URL of the API')
    sub.add_argument('--no-throughput', action='store_true')
    _common(sub)
    sub.set_defaults(func=_http_query)

    sub = commands.add_parser(
        'footprint', help='bytes per event on disk; RSS of processes')
    _target(sub)
    sub.add_argument('--pid', type=int, action='append', default=[],
                     help='also report the RSS of this process')
    _common(sub)
    sub.set_defaults(func=_footprint)

    sub = commands.add_parser(
        'all', help='ingest on every engine, then load, query and measure '
                    'the footprint of one engine')
    sub.add_argument('--engine', choices=databases.ENGINES,
                     default='postgresql',
                     help='engine to load and query (default postgresql)')
    sub.add_argument('--ingest-events', type=int, default=100000)
    sub.add_argument('--dispatcher-events', type=int, default=100000,
                     help='events for the dispatcher cases (0: skip them)')
    sub.add_argument('--events', type=int, default=1000000,
                     help='events to load before querying')
    sub.add_argument('--api-url',
                     help='also run the query set over HTTP against this '
                          'API, serving the loaded database')
    _common(sub)
    sub.set_defaults(func=_all)

    args = parser.parse_args(argv)
    return args.func(args)


def _target(sub):
    sub.add_argument('--engine', choices=databases.ENGINES,
                     default='postgresql',
                     help='use the panko_bench database of this engine')
    sub.add_argument('--url', help='or this database URL')


def _common(sub):
    sub.add_argument('--seed', type=int, default=0,
                     help='generator seed (default 0)')
    sub.add_argument('--json', metavar='FILE',
                     help='write the results as JSON ("-": standard output)')


def _ingest(args):
    rows = [ingest.run(engine, args.events, args.seed,
                       partitioned=args.partitioned)
            for engine in args.engine or databases.ENGINES]
    report.emit('ingest', rows,
                [('engine', 'engine'), ('events', 'events'),
                 ('seconds', 'seconds'), ('events_per_second', 'events/s')],
                rows, args.json)


DISPATCHER_COLUMNS = [
    ('events_per_message', 'events/message'), ('messages', 'messages'),
    ('workers', 'workers'), ('steady_events_per_s', 'events/s'),
    ('with_startup_events_per_s', 'with start-up'),
    ('worker_rss_mb_max', 'worker RSS MB'),
    ('cpu', 'CPU us/event: dispatcher, RabbitMQ, PostgreSQL')]


def _dispatcher(args):
    rows = dispatcher.run(args.events, _numbers(args.sizes),
                          _numbers(args.workers), args.seed,
                          args.batch_size, args.prefetch)
    report.emit('dispatcher', rows, DISPATCHER_COLUMNS,
                [_with_cpu(row) for row in rows], args.json)


def _numbers(text):
    return [int(item) for item in text.split(',')]


def _with_cpu(row):
    cpu = row['cpu_us_per_event']
    return dict(row, cpu='%(dispatcher)d, %(rabbitmq)d, %(postgresql)d'
                % cpu)


def _load(args):
    url = args.url or databases.url_of(args.engine)
    if args.create:
        databases.create(databases.engine_of(url), databases.name_of(url))
    row = load.run(url, args.events, args.seed, args.workers,
                   args.partitioned)
    report.emit('load', [row],
                [('engine', 'engine'), ('events', 'events'),
                 ('loaded', 'loaded'), ('seconds', 'seconds')],
                [row], args.json)


def _expire(args):
    url = args.url or databases.url_of(args.engine)
    row = expire.run(url, args.rate)
    report.emit('expire', row, [
        ('partitioned', 'partitioned'), ('expired', 'expired'),
        ('seconds', 'seconds'), ('server_cpu_seconds', 'server CPU s'),
        ('longest_lock_wait_ms', 'lock wait ms'),
        ('ingest_max_ms_before', 'batch max ms before'),
        ('ingest_max_ms_during', 'during'),
        ('query_max_ms_before', 'query max ms before'),
        ('query_max_ms_during', 'during')], [row], args.json)


QUERY_COLUMNS = [('name', 'query'), ('title', ''), ('p50_ms', 'p50 ms'),
                 ('p95_ms', 'p95 ms'), ('results', 'results')]


def _storage_query(args):
    url = args.url or databases.url_of(args.engine)
    result = storage_query.run(url, args.seed, not args.no_throughput)
    print('%s, %d events, through the storage driver'
          % (result['engine'], result['events']))
    _print_queries(result, args)


def _http_query(args):
    result = http_query.run(args.url, args.seed, not args.no_throughput)
    print('%s, over HTTP' % args.url)
    _print_queries(result, args)


def _print_queries(result, args):
    report.emit('query', result, QUERY_COLUMNS, result['queries'],
                args.json)
    if 'q1_throughput' in result:
        print('Q1 throughput, %(clients)d clients (%(client)s) for '
              '%(seconds)d s: %(requests_per_second).1f requests/s'
              % result['q1_throughput'])


def _footprint(args):
    url = args.url or databases.url_of(args.engine)
    result = footprint.run(url)
    result['processes'] = footprint.rss(args.pid)
    report.emit('footprint', result,
                [('engine', 'engine'), ('events', 'events'),
                 ('table_bytes', 'table bytes'),
                 ('index_bytes', 'index bytes'),
                 ('bytes_per_event', 'bytes/event')], [result], args.json)
    if result['processes']:
        print(report.table([('pid', 'pid'), ('name', 'process'),
                            ('rss_mb', 'RSS MB')], result['processes']))


def _all(args):
    """Every measure in one run, one JSON document."""
    ingested = [ingest.run(engine, args.ingest_events, args.seed)
                for engine in databases.ENGINES]
    dispatched = (dispatcher.run(args.dispatcher_events, [100, 1], [1, 2],
                                 args.seed)
                  if args.dispatcher_events else [])
    url = databases.create(args.engine)
    loaded = load.run(url, args.events, args.seed)
    queried = storage_query.run(url, args.seed)
    results = {'ingest': ingested, 'dispatcher': dispatched, 'load': loaded,
               'storage_query': queried, 'footprint': footprint.run(url)}
    if args.api_url:
        results['http_query'] = http_query.run(args.api_url, args.seed)
    rows = [{'measure': 'ingest %s' % row['engine'],
             'value': row['events_per_second'], 'unit': 'events/s'}
            for row in ingested]
    for row in dispatched:
        case = ('dispatcher %(events_per_message)d-event messages, '
                '%(workers)d worker(s)' % row)
        rows.append({'measure': case, 'value': row['steady_events_per_s'],
                     'unit': 'events/s'})
        rows.append({'measure': case + ', worker RSS',
                     'value': row['worker_rss_mb_max'], 'unit': 'MB'})
    for mode in ('storage_query', 'http_query'):
        for query in results.get(mode, {}).get('queries', []):
            rows.append({'measure': '%s %s' % (mode, query['name']),
                         'value': '%s / %s' % (query['p50_ms'],
                                               query['p95_ms']),
                         'unit': 'ms p50 / p95'})
        if mode in results:
            rows.append({'measure': '%s Q1 throughput' % mode,
                         'value': results[mode]['q1_throughput'][
                             'requests_per_second'],
                         'unit': 'requests/s'})
    rows.append({'measure': 'footprint %s' % args.engine,
                 'value': results['footprint']['bytes_per_event'],
                 'unit': 'bytes/event'})
    report.emit('all', results, [('measure', 'measure'), ('value', 'value'),
                                 ('unit', 'unit')], rows, args.json)
