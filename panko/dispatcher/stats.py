"""What a dispatcher worker did: one INFO line per ``stats_interval``.

The endpoints add their counts once per batch; a timer thread of the
worker logs them, and the rate and lag they give, and starts again.
"""

import datetime
import threading
import time

from oslo_log import log

from panko.storage import models

LOG = log.getLogger(__name__)

COUNTS = ('messages', 'stored', 'duplicates', 'rejected', 'requeued')


class Stats:
    """The counts of one worker's endpoints since the last report.

    ``lag`` is how long before the end of the worker's latest batch the
    batch's last event was generated (by the clocks of the sender and of
    this host): when a backlog is being worked through, how far behind
    the dispatcher is.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._start()

    def _start(self):
        self.counts = dict.fromkeys(COUNTS, 0)
        self.lag = None
        self.since = time.monotonic()

    def recorded(self, messages, result, last_event=None):
        """A batch of ``messages`` recorded with a RecordResult."""
        lag = _lag(last_event) if last_event is not None else None
        with self._lock:
            self.counts['messages'] += messages
            self.counts['stored'] += len(result.stored)
            self.counts['duplicates'] += len(result.duplicates)
            self.counts['rejected'] += len(result.rejected)
            if lag is not None:
                self.lag = lag

    def requeued(self, messages):
        with self._lock:
            self.counts['requeued'] += messages

    def take(self):
        """(counts, seconds they cover, lag or None); then start again."""
        with self._lock:
            counts, lag, since = self.counts, self.lag, self.since
            self._start()
            seconds = self.since - since
        return counts, seconds, lag


def _lag(event):
    try:
        generated = models.normalize_datetime(event.generated)
    except (ValueError, TypeError):
        return None     # An invalid event, rejected on its own.
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    return (now - generated).total_seconds()


class Reporter(threading.Thread):
    """Logs a worker's Stats every ``interval`` seconds until stopped."""

    def __init__(self, stats, interval, worker_id):
        super().__init__(name='stats-reporter', daemon=True)
        self.stats = stats
        self.interval = interval
        self.worker_id = worker_id
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(self.interval):
            self.report()

    def stop(self):
        self.stopping.set()

    def report(self):
        counts, seconds, lag = self.stats.take()
        LOG.info('Worker %d, last %.0f s: %d messages, %d events stored '
                 '(%.1f/s), %d duplicates, %d rejected (dead letters), %d '
                 'messages requeued, lag %s', self.worker_id, seconds,
                 counts['messages'], counts['stored'],
                 counts['stored'] / max(seconds, 1e-3),
                 counts['duplicates'], counts['rejected'],
                 counts['requeued'],
                 'unknown' if lag is None else '%.1f s' % lag)
