import copy
import datetime

import pytest

from panko.ingestion import wire
from panko.storage import models
from panko.tests import contract


def an_event(**changes):
    event = copy.deepcopy(
        contract.fixture_events('event_sample_signed_single')[0])
    event.update(changes)
    return event


def test_captured_batch_parses_with_typed_traits():
    events, rejected = wire.parse_events(
        contract.fixture_events('event_sample_signed_batch3'),
        contract.SECRET)
    assert rejected == []
    assert len(events) == 3
    valid = events[0].validated()
    assert valid.generated == datetime.datetime(2026, 11, 25, 3, 3, 14,
                                                720856)
    traits = {t.name: (t.dtype, t.value) for t in valid.traits}
    assert traits['memory_mb'] == (models.Trait.INT_TYPE, 512)
    assert traits['load'] == (models.Trait.FLOAT_TYPE, 0.25)
    assert traits['launched_at'][0] == models.Trait.DATETIME_TYPE
    assert isinstance(traits['launched_at'][1], datetime.datetime)
    assert valid.raw['payload']['unicode'] == 'café'


@pytest.mark.parametrize('event, reason', [
    ('not an object', 'an event must be a JSON object, got a string'),
    (an_event(message_id=None), 'message_id must be a non-empty string'),
    (an_event(event_type=5), 'event_type must be a non-empty string, got '
                             'an integer'),
    (an_event(generated=''), 'generated must be a non-empty string'),
    (an_event(traits={'a': 1}), 'traits must be an array, got an object'),
    (an_event(raw=[1]), 'raw must be an object, got an array'),
    (an_event(traits=[['a', 1]]), 'traits[0] must be a [name, dtype, '
                                  'value] array'),
    (an_event(traits=[[7, 1, 'x']]), 'traits[0]: the name must be'),
    (an_event(traits=[['ok', 1, 'x'], ['n', 9, 1]]),
     'traits[1] (n): dtype 9 is not one of [0, 1, 2, 3, 4]'),
    (an_event(traits=[['n', True, 1]]), 'traits[0] (n): dtype True'),
    (an_event(traits=[['memory_mb', 2, '512']]),
     "traits[0] (memory_mb): dtype 2 (integer) cannot hold a string ('512')"),
    (an_event(traits=[['memory_mb', 2, 1.5]]),
     'traits[0] (memory_mb): dtype 2 (integer) cannot hold a number'),
    (an_event(traits=[['flag', 2, True]]),
     'traits[0] (flag): dtype 2 (integer) cannot hold a boolean'),
    (an_event(traits=[['name', 1, 5]]),
     'traits[0] (name): dtype 1 (string) cannot hold an integer'),
    (an_event(traits=[['at', 4, 1700000000]]),
     'traits[0] (at): dtype 4 (datetime) cannot hold an integer'),
])
def test_malformed_event_rejected_with_a_reason_naming_the_field(event,
                                                                 reason):
    events, rejected = wire.parse_events([event])
    assert events == []
    [letter] = rejected
    text = letter.reason
    assert reason in text


def test_value_errors_are_left_to_validated():
    event = wire.parse_event(an_event(traits=[['at', 4, 'not a date']]))
    with pytest.raises(models.InvalidEvent, match='trait at'):
        event.validated()


def test_valid_rest_of_a_batch_is_kept():
    good = contract.fixture_events('event_sample_signed_batch3')
    bad = an_event(traits=[['memory_mb', 2, 'lots']])
    events, rejected = wire.parse_events([good[0], bad, good[1]])
    assert [e.message_id for e in events] == [good[0]['message_id'],
                                              good[1]['message_id']]
    assert rejected[0].message_id == bad['message_id']
    assert rejected[0].payload is bad


def test_signature_checked_only_with_a_secret():
    forged = an_event(traits=[['service', 1, 'forged']])
    events, rejected = wire.parse_events([forged], contract.SECRET)
    assert events == []
    assert 'message_signature does not match' in rejected[0].reason
    events, rejected = wire.parse_events([forged], '')
    assert len(events) == 1 and rejected == []


def test_accept_unsigned_still_checks_signed_events():
    signed = contract.fixture_events('event_sample_signed_single')
    forged = dict(signed[0], message_id='forged-1')
    unsigned = dict(signed[0], message_id='unsigned-1', message_signature='')
    missing = dict(signed[0], message_id='missing-1')
    del missing['message_signature']
    events, rejected = wire.parse_events(
        signed + [forged, unsigned, missing], contract.SECRET,
        accept_unsigned=True)
    assert [e.message_id for e in events] == [
        signed[0]['message_id'], 'unsigned-1', 'missing-1']
    assert [letter.message_id for letter in rejected] == ['forged-1']
    events, rejected = wire.parse_events([unsigned, missing],
                                         contract.SECRET)
    assert events == [] and len(rejected) == 2


def test_null_trait_value_means_no_trait():
    event = wire.parse_event(an_event(traits=[['gone', 2, None]]))
    assert event.validated().traits == []


@pytest.mark.parametrize('body', ['x', None, 42, True])
def test_post_body_that_is_not_a_list(body):
    with pytest.raises(wire.InvalidBody, match='JSON array'):
        wire.parse_body(body)


def test_post_body_element_that_is_not_an_object():
    batch = contract.fixture_events('event_sample_signed_batch3')
    with pytest.raises(wire.InvalidBody, match='element 3 .* got an integer'):
        wire.parse_body(batch + [42])

