"""The storage commands and the configuration generator, run as commands."""

import datetime
import os
import subprocess
import sys

from oslo_utils import timeutils

from panko import opts
from panko import storage
from panko.storage import models
from panko.tests import backends
from panko.tests.functional.storage import test_storage
from panko.tests.functional.storage.test_sql_migrations import run_command


def test_expirer_deletes_what_the_options_say(empty_database_url, tmp_path):
    conn = storage.get_connection(backends.make_conf(empty_database_url),
                                  empty_database_url)
    conn.upgrade()
    now = timeutils.utcnow()
    conn.record_events(
        [test_storage.make_event(n, event_type='old.type',
                                 generated=now - datetime.timedelta(days=3))
         for n in range(5)] +
        [test_storage.make_event(n, generated=now) for n in range(5, 7)])

    def expire(**options):
        result = run_command('panko-expirer', empty_database_url,
                             directory=str(tmp_path), **options)
        assert result.returncode == 0, result.stderr
        return result.stdout + result.stderr

    def stored():
        return [e.message_id for e in conn.get_events(models.EventFilter())]

    output = expire(event_time_to_live=-1)
    assert 'kept forever' in output
    assert len(stored()) == 7

    output = expire(event_time_to_live=86400, events_delete_batch_size=2)
    assert 'Expired 2 events' in output
    assert len(stored()) == 5

    output = expire(event_time_to_live=86400)
    assert 'Expired 3 events' in output
    assert stored() == ['msg-005', 'msg-006']
    assert conn.get_event_types() == ['compute.instance.update']


def test_config_generator_lists_every_option():
    generator = os.path.join(os.path.dirname(sys.executable),
                             'oslo-config-generator')
    output = subprocess.run([generator, '--namespace', 'panko'],
                            capture_output=True, text=True, check=True,
                            timeout=60).stdout
    for group, options in opts.list_opts():
        assert '[%s]' % group in output
        for option in options:
            assert '#%s = ' % option.name in output
            assert option.help.split()[0] in output
