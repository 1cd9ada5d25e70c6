"""What the tests and the benchmarks both drive: RabbitMQ, panko-dispatcher
and the databases they create on the SQL servers.

It lives under tools/, not panko/tests, so that the benchmark suite never
imports the tests: the benchmarks find it beside them (tools/ is the
directory of tools/benchmark.py), the tests through pytest's pythonpath.
Nothing here skips or fails a test; panko.tests.backends does that.
"""
