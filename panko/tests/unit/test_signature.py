import copy

import pytest

from panko.ingestion import signature
from panko.tests import contract

SIGNED_FIXTURES = ('event_sample_signed_batch3', 'event_sample_signed_single',
                   'agent_event_compute_instance_create_end_signed')


def test_worked_example_stream_and_digest():
    example = contract.fixture('signature_worked_example')
    stream = [list(pair) for pair in signature.signed_stream(
        example['event'])]
    assert stream == example['stream']
    assert signature.compute_signature(
        example['event'], example['secret']) == example['hex_digest']


@pytest.mark.parametrize('name', SIGNED_FIXTURES)
def test_captured_ceilometer_signatures_verify(name):
    for event in contract.fixture_events(name):
        assert signature.verify_signature(event, contract.SECRET)
        assert not signature.verify_signature(event, 'another secret')


@pytest.mark.parametrize('change', [
    lambda e: e['traits'][0].__setitem__(2, 'changed'),
    lambda e: e['raw'].__setitem__('extra', {'nested': 1}),
    lambda e: e.__setitem__('generated', e['generated'] + '1'),
])
def test_any_alteration_breaks_the_signature(change):
    event = copy.deepcopy(
        contract.fixture_events('event_sample_signed_single')[0])
    change(event)
    assert not signature.verify_signature(event, contract.SECRET)


def test_number_types_are_signed_as_written():
    event = {'message_id': 'm', 'traits': [['n', 3, 512.0]], 'raw': {}}
    as_int = dict(event, traits=[['n', 3, 512]])
    assert (signature.compute_signature(event, 'k')
            != signature.compute_signature(as_int, 'k'))


def test_unsigned_event_fails_only_with_a_secret():
    event = contract.fixture_events('event_sample_unsigned')[0]
    assert event['message_signature'] == ''
    assert signature.verify_signature(event, '')
    assert not signature.verify_signature(event, contract.SECRET)
    assert signature.compute_signature(event, '') == ''


def test_non_string_signature_fails():
    event = dict(contract.fixture_events('event_sample_signed_single')[0],
                 message_signature=None)
    assert not signature.verify_signature(event, contract.SECRET)


@pytest.mark.parametrize('forged', ['é' * 64, '\u0000', 12, ['a']])
def test_non_ascii_or_non_string_signature_does_not_match(forged):
    # compare_digest raises TypeError for non-ASCII str: no match instead.
    event = dict(contract.fixture_events('event_sample_signed_single')[0],
                 message_signature=forged)
    assert not signature.verify_signature(event, contract.SECRET)
