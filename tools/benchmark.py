#!/usr/bin/env python3
"""The panko benchmark suite: one command, one subcommand per measure.

    tools/benchmark.py ingest [--engine E] [--events N]
    tools/benchmark.py dispatcher [--events N] [--sizes 100,1]
    tools/benchmark.py load --engine E --events N
    tools/benchmark.py storage-query --engine E
    tools/benchmark.py query --url http://127.0.0.1:8977
    tools/benchmark.py footprint --engine E [--pid PID ...]
    tools/benchmark.py expire [--url URL] [--rate N]
    tools/benchmark.py all [--events N]

Every subcommand prints a table and, with ``--json FILE`` (``-`` for
standard output), writes the figures with the machine's conditions.
Run it with the virtualenv that ``tools/run-tests.sh`` creates. The
PostgreSQL and MariaDB servers are the ones the tests use (override with
PANKO_BENCH_POSTGRESQL_URL and PANKO_BENCH_MYSQL_URL); each benchmark
works in a database named panko_bench.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench import cli  # noqa: E402

if __name__ == '__main__':
    sys.exit(cli.main())
