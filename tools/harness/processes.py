"""Running panko-dispatcher as a real process, as deployers do."""

import configparser
import os
import signal
import subprocess
import sys
import time

import sqlalchemy as sa

DISPATCHER = os.path.join(os.path.dirname(sys.executable),
                          'panko-dispatcher')


def write_config(path, sections):
    """Write {section: {option: value}} as an oslo.config file."""
    parser = configparser.ConfigParser(interpolation=None)
    for section, options in sections.items():
        parser[section] = {key: str(value) for key, value in options.items()}
    with open(path, 'w') as f:
        parser.write(f)
    return path


class Dispatcher:
    """A panko-dispatcher process with its output in a log file."""

    def __init__(self, config_path, log_path):
        self.config_path = config_path
        self.log_path = log_path
        self.process = None

    def start(self):
        with open(self.log_path, 'ab') as log:
            self.process = subprocess.Popen(
                [DISPATCHER, '--config-file', self.config_path],
                stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        return self

    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=30):
        """SIGTERM, as an init system does; return the exit status."""
        if not self.running():
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise

    def log(self):
        with open(self.log_path, errors='replace') as f:
            return f.read()


def wait_for(predicate, timeout, interval=0.2, what='condition'):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %ss waiting for %s'
                                 % (timeout, what))
        time.sleep(interval)


class EventCounter:
    """Counts stored events with one cheap query, for polling."""

    def __init__(self, url):
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

    def counts(self):
        """(rows, distinct message_ids) in the event table."""
        with self.engine.connect() as conn:
            return tuple(conn.execute(sa.text(
                'SELECT count(*), count(DISTINCT message_id) FROM event')
            ).one())

    def stored(self):
        return self.counts()[0]
