"""Ceilometer's event signature: HMAC-SHA256 over a flattened event.

The exact byte stream is described in the wire contract (section 4): the
event's keys in sorted order at every level, nested objects flattened with
``:``, arrays written as Python 3 prints them once every string has been
turned into UTF-8 bytes. Floats print the way Python prints them, which is
also how Ceilometer's JSON wrote them, so parsing with :mod:`json` and
printing again gives back the original text. A lone surrogate, which
UTF-8 cannot encode, is hashed as its three surrogate bytes, so that such
an event is rejected for what it holds rather than for its signature.
"""

import hmac

SIGNATURE_FIELD = 'message_signature'


#: Types JSON decoding makes that Ceilometer's decode_unicode() keeps
#: as they are.
_KEPT_TYPES = frozenset((int, float, bool, type(None)))


def _as_bytes(value):
    """The value as Ceilometer's decode_unicode() leaves it, keys sorted."""
    kind = type(value)
    if kind is str:
        return value.encode('utf-8', 'surrogatepass')
    if kind is list:
        return _list_as_bytes(value)
    if kind is dict:
        return {_as_bytes(key): _as_bytes(value[key])
                for key in sorted(value)}
    # Subclasses, which JSON decoding never makes: the same, more slowly.
    if isinstance(value, str):
        return value.encode('utf-8', 'surrogatepass')
    if isinstance(value, list):
        return [_as_bytes(item) for item in value]
    if isinstance(value, dict):
        return {_as_bytes(key): _as_bytes(value[key])
                for key in sorted(value)}
    return value


def _list_as_bytes(items):
    """_as_bytes of a list, its strings and numbers converted in place.

    Events are mostly lists of [name, dtype, value] lists: one call per
    list instead of one per item halves the time to sign an event.
    """
    return [item.encode('utf-8', 'surrogatepass') if type(item) is str
            else item if type(item) in _KEPT_TYPES
            else _as_bytes(item) for item in items]


def _flatten(event, prefix, parts):
    """Append the names and texts that are hashed, in order, to parts."""
    for key in sorted(event):
        value = event[key]
        if type(value) is str:
            parts += (prefix + key, value)
        elif isinstance(value, dict):
            _flatten(value, '%s%s:' % (prefix, key), parts)
        elif isinstance(value, list):
            parts += (prefix + key, str(_list_as_bytes(value)))
        else:
            parts += (prefix + key, str(value))


def _event_parts(event):
    """The names and texts that are hashed, in order, in one list."""
    parts = []
    _flatten({key: value for key, value in event.items()
              if key != SIGNATURE_FIELD}, '', parts)
    return parts


def signed_stream(event):
    """The (name, text) pairs that are hashed, in order."""
    parts = _event_parts(event)
    return list(zip(parts[0::2], parts[1::2], strict=True))


def compute_signature(event, secret):
    """The hex signature of a serialized event dict; '' without a secret.

    The names and texts are hashed as one string: HMAC over their
    concatenation is HMAC over each in turn, for a fraction of the calls.
    """
    if not secret:
        return ''
    return hmac.digest(secret.encode('utf-8'),
                       ''.join(_event_parts(event)).encode(
                           'utf-8', 'surrogatepass'), 'sha256').hex()


def verify_signature(event, secret):
    """True when the event is correctly signed, or no secret is set."""
    if not secret:
        return True
    signature = event.get(SIGNATURE_FIELD)
    # compare_digest refuses str with non-ASCII characters; no hex
    # digest has any.
    if not isinstance(signature, str) or not signature.isascii():
        return False
    return hmac.compare_digest(compute_signature(event, secret),
                               signature)
