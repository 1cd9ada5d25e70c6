"""Removing credentials from messages and events before they are kept.

A notification carries the request context of the service that sent it:
as ``ctxt`` in the messages oslo.messaging hands over, and as top-level
``_context_<name>`` keys in the older format that Ceilometer keeps in an
event's ``raw``. That context holds the caller's Keystone token
(``auth_token``) and, for some services, more (``service_token``, Heat's
``password`` and ``auth_token_info``). Nothing panko keeps (raw
notifications, dead letters) may hold them.

:func:`scrub` returns a copy of a document in which, anywhere in it:

* every value under a ``ctxt`` or ``context`` object whose key looks
  secret, at any depth below it, and
* every ``_context_<name>`` key whose name looks secret

is replaced by ``***`` (an empty one, null or "", says there was no
credential and is kept). A name looks secret when, lower-cased, it
contains ``token``, ``passw``, ``secret`` or ``credential``, or one of
its words (split on ``_``, ``-``, ``.`` and spaces) is ``key``, ``pass``
or ``pwd``: ``auth_token``, ``X-Auth-Token``, ``service_token``,
``auth_token_info``, ``password``, ``client_secret``, ``credentials``,
``private_key``, ``api-key``. Identifiers that authenticate nothing by
themselves stay: user, project, domain, roles, request ids, trust ids
(a trust is used with a token, which is removed). The rest of the document
(the notification's payload) is kept as it is: its fields, such as Nova's
``key_name``, are what events are made of.

A document that is a string (a message that could not be decoded) goes
through oslo.utils' ``mask_password``, which masks ``"auth_token":
"..."`` and the like in text.
"""

import functools
import re

from oslo_utils import strutils

#: What replaces a credential.
MASK = '***'
#: Values that hold no credential, kept as they are (``"auth_token":
#: null`` says that there was none).
EMPTY = (None, '')

#: Keys whose object value is a request context.
CONTEXT_KEYS = frozenset(('ctxt', 'context'))
#: Prefix of the context keys of the older notification format.
CONTEXT_PREFIX = '_context_'

_SECRET_PARTS = ('token', 'passw', 'secret', 'credential')
_SECRET_WORDS = frozenset(('key', 'pass', 'pwd'))
_WORD_SEPARATORS = re.compile(r'[-_. ]+')


def looks_secret(name):
    """Whether a context key's name says that its value is a credential."""
    if not isinstance(name, str):
        return False
    return _name_looks_secret(name)


@functools.lru_cache(maxsize=4096)
def _name_looks_secret(name):
    """looks_secret of a str, remembered: contexts repeat the same few
    keys, and deciding cost a third of the time to scrub a notification.
    """
    lowered = name.lower()
    return (any(part in lowered for part in _SECRET_PARTS)
            or not _SECRET_WORDS.isdisjoint(_WORD_SEPARATORS.split(lowered)))


def _masked(name, in_context):
    if not isinstance(name, str):
        return False
    if in_context:
        return looks_secret(name)
    return (name.startswith(CONTEXT_PREFIX)
            and looks_secret(name[len(CONTEXT_PREFIX):]))


def scrub(document):
    """A copy of a JSON document without its credentials (see above).

    Iterative rather than recursive, so that a document as deeply nested
    as the JSON decoder allows does not exhaust the stack here. An object
    or array met twice (which decoded JSON never has) is copied once, so
    a circular document gives a circular copy instead of an endless loop.
    """
    if isinstance(document, str):
        return strutils.mask_password(document)
    holder = [None]
    copies = {}
    # (container of the copy, key in it, original value, under a context)
    pending = [(holder, 0, document, False)]
    while pending:
        parent, key, value, in_context = pending.pop()
        if (id(value), in_context) in copies:
            parent[key] = copies[id(value), in_context]
        elif isinstance(value, dict):
            copy = parent[key] = copies[id(value), in_context] = {}
            for name, item in value.items():
                if _masked(name, in_context) and item not in EMPTY:
                    copy[name] = MASK
                else:
                    copy[name] = None
                    pending.append((copy, name, item,
                                    in_context or name in CONTEXT_KEYS))
        elif isinstance(value, list):
            copy = parent[key] = copies[id(value), in_context] = (
                [None] * len(value))
            pending.extend((copy, index, item, in_context)
                           for index, item in enumerate(value))
        else:
            parent[key] = value
    return holder[0]


def scrub_notification(notification):
    """``scrub`` for a raw notification, walking only its context.

    A notification's context is at its top level (``ctxt``, ``context``
    or ``_context_*`` keys); its payload, often most of it, is left
    as it is and shared with the copy. Every stored event's raw goes
    through here: walking the whole document instead was a large share
    of the time to record an event.
    """
    if not isinstance(notification, dict):
        return scrub(notification)
    copy = None
    for name, value in notification.items():
        if name in CONTEXT_KEYS:
            replacement = scrub({name: value})[name]
        elif _masked(name, False) and value not in EMPTY:
            replacement = MASK
        else:
            continue
        if copy is None:
            copy = dict(notification)
        copy[name] = replacement
    return notification if copy is None else copy
