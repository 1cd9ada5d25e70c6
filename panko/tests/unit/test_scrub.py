"""Credentials removed from documents before panko keeps them."""

import json

import pytest

from panko import scrub

TOKEN = 'gAAAAABn-the-token'


@pytest.mark.parametrize('name', [
    'auth_token', 'AUTH_TOKEN', 'X-Auth-Token', 'service_token',
    'auth_token_info', 'token', 'password', 'admin_password', 'passwd',
    'secret', 'client_secret', 'credentials', 'private_key', 'api-key',
    'key', 'pass', 'pwd', 'os.pass'])
def test_secret_names(name):
    assert scrub.looks_secret(name)


@pytest.mark.parametrize('name', [
    'user_id', 'project_id', 'tenant', 'domain', 'roles', 'request_id',
    'global_request_id', 'trust_id', 'trustor_user_id', 'is_admin',
    'service_catalog', 'user_identity', 'keystone_url', 'monkey', 'bypass',
    None, 3])
def test_names_that_stay(name):
    assert not scrub.looks_secret(name)


def test_a_notification_context_is_scrubbed():
    message = {
        'ctxt': {'auth_token': TOKEN, 'user_id': 'u1', 'project_id': 'p1',
                 'request_id': 'req-1', 'roles': ['admin'],
                 'service_token': TOKEN, 'trust_id': 't1',
                 'auth_token_info': {'token': {'methods': ['password']}},
                 'nested': {'X-Auth-Token': TOKEN, 'region': 'r1'}},
        'event_type': 'compute.instance.update',
        'payload': {'instance_id': 'vm-1', 'key_name': 'mykey',
                    'password': 'in-the-payload-stays'},
        'metadata': {'message_id': 'm1', 'timestamp': '2026-12-01'},
    }
    scrubbed = scrub.scrub(message)
    assert scrubbed == {
        'ctxt': {'auth_token': '***', 'user_id': 'u1', 'project_id': 'p1',
                 'request_id': 'req-1', 'roles': ['admin'],
                 'service_token': '***', 'trust_id': 't1',
                 'auth_token_info': '***',
                 'nested': {'X-Auth-Token': '***', 'region': 'r1'}},
        'event_type': 'compute.instance.update',
        'payload': {'instance_id': 'vm-1', 'key_name': 'mykey',
                    'password': 'in-the-payload-stays'},
        'metadata': {'message_id': 'm1', 'timestamp': '2026-12-01'},
    }
    # A copy: the original is untouched.
    assert message['ctxt']['auth_token'] == TOKEN


def test_old_format_context_keys_in_an_event_raw():
    """Ceilometer's raw keeps the context as _context_ keys."""
    events_message = {'ctxt': {}, 'payload': [
        {'message_id': 'e1', 'traits': [['project_id', 1, 'p1']],
         'raw': {'_context_auth_token': TOKEN, '_context_user': 'u1',
                 '_context_password': TOKEN, 'auth_token': 'not context',
                 'payload': {'_context_auth_token': 'deeper'}}}]}
    raw = scrub.scrub(events_message)['payload'][0]['raw']
    assert raw == {'_context_auth_token': '***', '_context_user': 'u1',
                   '_context_password': '***', 'auth_token': 'not context',
                   'payload': {'_context_auth_token': '***'}}
    assert TOKEN not in json.dumps(scrub.scrub(events_message))


def test_context_in_lists_and_at_depth():
    document = [{'a': [{'context': {'token': TOKEN}}]}, 'x', 1, None]
    assert scrub.scrub(document) == [
        {'a': [{'context': {'token': '***'}}]}, 'x', 1, None]


def test_scalars_and_text():
    assert scrub.scrub(None) is None
    assert scrub.scrub(2 ** 70) == 2 ** 70
    # A message that is not even JSON: oslo.utils' mask_password.
    text = scrub.scrub('{"auth_token": "%s", "user": "u1", ' % TOKEN)
    assert TOKEN not in text and text.startswith('{"auth_token": "***"')


def test_shared_and_circular_objects():
    shared = {'auth_token': TOKEN}
    scrubbed = scrub.scrub({'ctxt': shared, 'other': shared})
    assert scrubbed == {'ctxt': {'auth_token': '***'},
                        'other': {'auth_token': TOKEN}}
    looped = {'ctxt': {'token': TOKEN}}
    looped['self'] = looped
    copy = scrub.scrub(looped)
    assert copy['self'] is copy and copy['ctxt'] == {'token': '***'}


def test_deep_documents_do_not_exhaust_the_stack():
    document = {'ctxt': {'auth_token': TOKEN}}
    for _ in range(100000):
        document = {'d': [document]}
    scrubbed = scrub.scrub(document)
    for _ in range(100000):
        scrubbed = scrubbed['d'][0]
    assert scrubbed == {'ctxt': {'auth_token': '***'}}


def test_scrubbing_twice_changes_nothing():
    message = {'ctxt': {'auth_token': TOKEN}, '_context_token': TOKEN}
    once = scrub.scrub(message)
    assert scrub.scrub(once) == once


def test_empty_credentials_are_kept_as_they_are():
    document = {'ctxt': {'auth_token': None, 'password': '', 'token': 't'}}
    assert scrub.scrub(document) == {
        'ctxt': {'auth_token': None, 'password': '', 'token': '***'}}


def test_a_notification_is_scrubbed_in_its_context_only():
    payload = {'instance_id': 'vm-1', 'metadata': {'token': 'user data'}}
    notification = {'ctxt': {'auth_token': 'gAAAAAB-token', 'user': 'u1'},
                    '_context_auth_token': 'gAAAAAB-token',
                    '_context_user_id': 'u1', 'payload': payload}
    scrubbed = scrub.scrub_notification(notification)
    assert scrubbed == {'ctxt': {'auth_token': '***', 'user': 'u1'},
                        '_context_auth_token': '***',
                        '_context_user_id': 'u1', 'payload': payload}
    # The payload is shared, not copied, and the original left as it was.
    assert scrubbed['payload'] is payload
    assert notification['ctxt']['auth_token'] == 'gAAAAAB-token'


def test_a_notification_without_context_is_returned_as_it_is():
    notification = {'payload': {'a': 1}, 'event_type': 'x'}
    assert scrub.scrub_notification(notification) is notification
