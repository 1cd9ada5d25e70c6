"""Ceilometer's event signature: HMAC-SHA256 over a flattened event.

The exact byte stream is described in the wire contract (section 4): the
event's keys in sorted order at every level, nested objects flattened with
``:``, arrays written as Python 3 prints them once every string has been
turned into UTF-8 bytes. Floats print the way Python prints them, which is
also how Ceilometer's JSON wrote them, so parsing with :mod:`json` and
printing again gives back the original text.
"""

import hashlib
import hmac

SIGNATURE_FIELD = 'message_signature'


def _as_bytes(value):
    """The value as Ceilometer's decode_unicode() leaves it, keys sorted."""
    if isinstance(value, str):
        return value.encode('utf-8')
    if isinstance(value, list):
        return [_as_bytes(item) for item in value]
    if isinstance(value, dict):
        return {_as_bytes(key): _as_bytes(value[key])
                for key in sorted(value)}
    return value


def _text(value):
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return str(_as_bytes(value))
    return str(value)


def signed_stream(event, prefix=''):
    """Yield the (name, text) pairs that are hashed, in order."""
    for key in sorted(event):
        if not prefix and key == SIGNATURE_FIELD:
            continue
        value = event[key]
        if isinstance(value, dict):
            yield from signed_stream(value, '%s%s:' % (prefix, key))
        else:
            yield prefix + key, _text(value)


def compute_signature(event, secret):
    """The hex signature of a serialized event dict; '' without a secret."""
    if not secret:
        return ''
    mac = hmac.new(secret.encode('utf-8'), digestmod=hashlib.sha256)
    for name, text in signed_stream(event):
        mac.update(name.encode('utf-8'))
        mac.update(text.encode('utf-8'))
    return mac.hexdigest()


def verify_signature(event, secret):
    """True when the event is correctly signed, or no secret is set."""
    if not secret:
        return True
    signature = event.get(SIGNATURE_FIELD)
    if not isinstance(signature, str):
        return False
    return hmac.compare_digest(compute_signature(event, secret),
                               signature)
