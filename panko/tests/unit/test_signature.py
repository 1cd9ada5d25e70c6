import copy
import hashlib
import hmac

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
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


def _plain_bytes(value):
    """The contract's decode_unicode(), written plainly, one call a value."""
    if isinstance(value, str):
        return value.encode('utf-8', 'surrogatepass')
    if isinstance(value, list):
        return [_plain_bytes(item) for item in value]
    if isinstance(value, dict):
        return {_plain_bytes(key): _plain_bytes(value[key])
                for key in sorted(value)}
    return value


def _plain_flatten(event, prefix=''):
    for key in sorted(event):
        if not prefix and key == signature.SIGNATURE_FIELD:
            continue
        value = event[key]
        if isinstance(value, dict):
            yield from _plain_flatten(value, '%s%s:' % (prefix, key))
        elif isinstance(value, list):
            yield prefix + key, str(_plain_bytes(value))
        else:
            yield prefix + key, value if isinstance(value, str) else str(
                value)


def _plain_signature(event, secret):
    mac = hmac.new(secret.encode('utf-8'), digestmod=hashlib.sha256)
    for name, text in _plain_flatten(event):
        mac.update(name.encode('utf-8', 'surrogatepass'))
        mac.update(text.encode('utf-8', 'surrogatepass'))
    return mac.hexdigest()


_TEXT = st.text(st.characters(codec=None, exclude_categories=()),
                max_size=8)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT
    | st.floats(allow_nan=True, allow_infinity=True),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(event=st.dictionaries(_TEXT, _JSON, max_size=6),
       traits=st.lists(st.tuples(_TEXT, st.integers(0, 4), _JSON).map(list),
                       max_size=6),
       signed=st.booleans())
def test_signature_is_the_plain_one(event, traits, signed):
    # The fast paths (lists converted a level at a time, one HMAC call)
    # sign exactly what the contract's plain description signs.
    event['traits'] = traits
    if signed:
        event[signature.SIGNATURE_FIELD] = 'ab' * 32
    assert (signature.compute_signature(event, 'k')
            == _plain_signature(event, 'k'))
    assert [list(pair) for pair in signature.signed_stream(event)] == [
        list(pair) for pair in _plain_flatten(event)]
