"""The panko benchmark suite; run it with ``tools/benchmark.py``."""
