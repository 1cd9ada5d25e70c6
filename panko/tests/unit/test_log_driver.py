"""The log driver keeps nothing, and says so through the shared loops."""

from unittest import mock

from panko import storage
from panko.storage import base
from panko.storage import retention
from panko.tests import backends


def test_expiry_runs_the_shared_loop_and_deletes_nothing():
    connection = storage.get_connection(backends.make_conf('log://'),
                                        'log://')
    rules = (retention.Rule(event_type='identity.*', project_id=None,
                            ttl=60),)
    with mock.patch.object(base.LOG, 'info') as info:
        assert connection.clear_expired_data(3600, rules=rules) == 0
    assert mock.call('Expired %d events; removed %d event types left '
                     'without events', 0, 0) in info.call_args_list
