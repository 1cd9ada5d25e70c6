"""Command line of the benchmark suite."""

import argparse

from bench import databases
from bench import ingest
from bench import load
from bench import report


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
    _common(sub)
    sub.set_defaults(func=_ingest)

    sub = commands.add_parser(
        'load', help='fill a store to N events quickly (bulk paths)')
    _target(sub)
    sub.add_argument('--events', type=int, default=1000000)
    sub.add_argument('--create', action='store_true',
                     help='drop and create the benchmark database first')
    sub.add_argument('--workers', type=int, default=2,
                     help='processes generating rows (default 2)')
    _common(sub)
    sub.set_defaults(func=_load)

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
    rows = [ingest.run(engine, args.events, args.seed)
            for engine in args.engine or databases.ENGINES]
    report.emit('ingest', rows,
                [('engine', 'engine'), ('events', 'events'),
                 ('seconds', 'seconds'), ('events_per_second', 'events/s')],
                rows, args.json)


def _load(args):
    url = args.url or databases.url_of(args.engine)
    if args.create:
        databases.create(databases.engine_of(url))
    row = load.run(url, args.events, args.seed, args.workers)
    report.emit('load', [row],
                [('engine', 'engine'), ('events', 'events'),
                 ('loaded', 'loaded'), ('seconds', 'seconds')],
                [row], args.json)
