"""Caller-supplied values made safe to write into a log line, an answer
or a column of any charset.

A value from a message or a request may hold newlines (which would forge
log lines), control characters, lone surrogates or megabytes of text.
``printable`` escapes it and cuts it short.
"""

import re

#: Characters of a value ``brief`` keeps.
BRIEF_LENGTH = 100
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
    if len(text) > limit or len(escaped) > limit:
        escaped = escaped[:limit - 3] + '...'
    return escaped


def _escape(match):
    return match.group().encode('unicode_escape').decode('ascii')


def brief(value, limit=BRIEF_LENGTH):
    """A value for a log line: text as ``printable``, the rest by repr."""
    return printable(value if isinstance(value, str) else repr(value),
                     limit)


def reason(error):
    """The text of an error that rejects an event, fit to log and keep."""
    return printable(str(error), REASON_LENGTH)
