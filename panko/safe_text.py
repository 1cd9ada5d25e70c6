"""Caller-supplied values made safe to write into a log line, an answer
or a column of any charset.

A value from a message or a request may hold newlines (which would forge
log lines), control characters, lone surrogates or megabytes of text.
``brief`` escapes it and cuts it short for a message or a log line;
``printable`` makes it printable ASCII for a column of any charset;
``escaped`` escapes only what is not printable, for text that JSON or XML
encodes next.
"""

import re
import reprlib

#: Characters of a value ``brief`` keeps.
BRIEF_LENGTH = 100
#: Characters of a value's repr ``shown`` keeps.
SHOWN_LENGTH = 80
#: Longest reason given for a rejection: values quoted in it are cut short.
REASON_LENGTH = 300

#: What printable() escapes: anything but printable ASCII.
_UNPRINTABLE = re.compile(r'[^\x20-\x7e]')


def printable(text, limit):
    """``text`` as printable ASCII of at most ``limit`` characters.

    Control characters, lone surrogates and every other non-ASCII
    character become Python escapes (``\\n``, ``\\x00``, ``\\ud800``,
    ``\\xe9``, ``\\U0001f600``), so the text fits any column charset and
    any terminal. Longer text is cut and ends with ``...``. None stays
    None; anything else is turned into text first.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        text = str(text)
    escaped = _UNPRINTABLE.sub(_escape, text[:limit])
    if len(text) <= limit and len(escaped) <= limit:
        return escaped
    # Cut between characters, never inside an escape.
    kept, size = [], 0
    for character in text[:limit]:
        piece = _UNPRINTABLE.sub(_escape, character)
        if size + len(piece) > limit - 3:
            break
        kept.append(piece)
        size += len(piece)
    return ''.join(kept) + '...'


def _escape(match):
    return _python_escape(match.group())


def _python_escape(character):
    """``character`` as a Python literal writes it: ``\\n``, ``\\ud800``."""
    return character.encode('unicode_escape').decode('ascii')


def escaped(text, limit):
    """``text`` with what ``str.isprintable`` refuses as Python escapes.

    Unlike ``printable`` it keeps printable non-ASCII characters, for
    text that an encoder (JSON, XML) writes next: an answer's
    faultstring. Text longer than ``limit`` characters, escapes included,
    is cut at ``limit`` (inside an escape, maybe) and ends with ``...``.
    """
    text = str(text)
    if not text.isprintable():
        text = ''.join(character if character.isprintable()
                       else _python_escape(character)
                       for character in text[:limit + 1])
    if len(text) > limit:
        text = text[:limit] + '...'
    return text


def brief(value, limit=BRIEF_LENGTH):
    """``value`` as error messages and log lines echo it.

    Short printable text as it is; anything else repr-escaped and cut
    to about ``limit`` characters, so that a value cannot forge a log
    line with a newline nor make a megabyte-long one.
    """
    if not isinstance(value, str):
        return reprlib.repr(value)[:limit]
    if len(value) <= limit and value.isprintable():
        return value
    text = repr(value[:limit])
    return text + '...' if len(value) > limit else text


def shown(value, limit=SHOWN_LENGTH):
    """The start of ``value``'s repr, as a rejection reason quotes it.

    Unlike ``brief``, a string is always in quotes (``'12'`` is not
    ``12``). The reason itself goes through ``reason`` (or ``printable``)
    before it reaches a log line or a column.
    """
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + '...'


def reason(error):
    """The text of an error that rejects an event, fit to log and keep."""
    return brief(str(error), REASON_LENGTH)
