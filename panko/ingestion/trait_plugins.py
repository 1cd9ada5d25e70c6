"""Trait plugins of event definitions: split, bitfield and timedelta.

A definition names a plugin (``plugin: split``, or ``plugin: {name: split,
parameters: {...}}``); it is loaded by name from the stevedore namespace
``panko.event.trait_plugin`` and given the parameters as keywords. Its
``trait_value(matches)`` receives the ``(path, value)`` pairs the trait's
fields matched, in the order of the fields, and returns the trait's value,
or None for no trait.
"""

from jsonpath_ng import ext as jsonpath
from oslo_log import log

from panko import safe_text
from panko.storage import models

LOG = log.getLogger(__name__)


class SplitPlugin:
    """One segment of a string split on a separator.

    With the defaults, ``compute.host1`` gives ``compute``.
    """

    def __init__(self, separator='.', segment=0, max_split=None):
        self.separator = separator
        self.segment = int(segment)
        self.max_split = -1 if max_split is None else int(max_split)

    def trait_value(self, matches):
        if not matches:
            return None
        path, value = matches[0]
        if not isinstance(value, str):
            LOG.warning('split: %s is %s, not a string', path,
                        safe_text.brief(value))
            return None
        parts = value.split(self.separator, self.max_split)
        try:
            return parts[self.segment]
        except IndexError:
            return None


class BitfieldPlugin:
    """An integer with a bit set for each flag whose field matches.

    Each flag is ``{path, bit}`` (set when the field is present and
    truthy) or ``{path, bit, value}`` (set when the field equals value).
    """

    def __init__(self, initial_bitfield=0, flags=()):
        self.initial_bitfield = int(initial_bitfield)
        self.flags = []
        for flag in flags:
            path = str(jsonpath.parse(flag['path']))
            self.flags.append((path, int(flag['bit']), 'value' in flag,
                               flag.get('value')))

    def trait_value(self, matches):
        bitfield = self.initial_bitfield
        for path, value in matches:
            for flag_path, bit, compare, expected in self.flags:
                if flag_path != path:
                    continue
                if (value == expected) if compare else bool(value):
                    bitfield |= 1 << bit
        return bitfield


class TimedeltaPlugin:
    """Seconds from the first field's time to the second's.

    For example ``fields: [payload.created_at, payload.launched_at]``
    gives how long an instance took to launch.
    """

    def trait_value(self, matches):
        if len(matches) != 2:
            LOG.warning('timedelta needs exactly two fields with a value, '
                        'got %s', [path for path, _ in matches])
            return None
        try:
            start, end = (models.normalize_datetime(value)
                          for _, value in matches)
        except (ValueError, TypeError) as e:
            LOG.warning('timedelta: %s', e)
            return None
        return (end - start).total_seconds()
