"""Retention rules: how long events of a type or a project are kept.

``[database] retention_rules_file`` names a YAML file of rules::

    rules:
      - event_type: "identity.authenticate"   # fnmatch pattern
        ttl: 7d
      - project_id: 4c2b8d1e0f3a4b5c9d7e6f8a1b2c3d4e
        ttl: 365d

The first rule, in file order, whose given keys all match an event
decides how long it is kept: ``event_type`` is an fnmatch pattern,
case-sensitive, matched against the event's type; ``project_id`` is
compared exactly with the project the event is stored with (a copy of
its ``project_id`` trait, the field the API's project restriction
reads). An event no rule matches is kept for ``[database]
event_time_to_live``. See doc/source/admin/index.rst.

:func:`load` validates the file into a tuple of :class:`Rule`;
:func:`selectors` turns rules, the global TTL and the store's event types
into the :class:`Selector` of events each deletion round removes, so that
a driver only translates a selector into a query.
"""

import dataclasses
import datetime
import fnmatch
import re

import yaml

from panko import safe_text

#: Seconds per TTL suffix.
UNITS = {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400}
#: The longest TTL a rule may set; beyond, write ``forever``.
MAX_TTL = 36500 * 86400
#: Keys a rule may have.
RULE_KEYS = ('event_type', 'project_id', 'ttl')
#: Longest event type or project id stored (their column size).
MAX_NAME = 255

_TTL_TEXT = re.compile(r'([0-9]+)([smhd]?)\Z')


class InvalidRules(ValueError):
    """The retention rules file cannot be read or breaks a rule.

    The text is one line naming the file, the rule (numbered from 1, in
    file order) and the problem.
    """


@dataclasses.dataclass(frozen=True)
class Rule:
    """One rule: ``ttl`` seconds, None to keep forever.

    ``event_type`` (an fnmatch pattern) and ``project_id`` are None when
    the rule does not restrict them.
    """

    event_type: str = None
    project_id: str = None
    ttl: int = None

    def matches(self, event_type, project_id):
        return ((self.event_type is None
                 or fnmatch.fnmatchcase(event_type, self.event_type))
                and (self.project_id is None
                     or project_id == self.project_id))


@dataclasses.dataclass(frozen=True)
class Selector:
    """Events generated before ``cutoff`` that one deletion round removes.

    Only of ``event_types`` (names), or of any type when None; only of
    ``project_id`` when set, else of any project but
    ``excluded_projects`` (events without a project included).
    """

    cutoff: datetime.datetime
    event_types: frozenset = None
    project_id: str = None
    excluded_projects: frozenset = frozenset()

    def describe(self):
        """For the expirer's log line."""
        types = ('any type' if self.event_types is None
                 else '%d event types' % len(self.event_types))
        if self.project_id is not None:
            projects = 'project %s' % self.project_id
        elif self.excluded_projects:
            projects = 'any project but %s' % ', '.join(
                sorted(self.excluded_projects))
        else:
            projects = 'any project'
        return '%s, %s' % (types, projects)


# Reading the file

def from_config(conf):
    """The rules of ``[database] retention_rules_file``; () when unset.

    A relative path is looked up next to the configuration files.
    """
    name = conf.database.retention_rules_file
    if not name:
        return ()
    return load(conf.find_file(name) or name)


def load(path):
    """The rules of the file at ``path``; raises InvalidRules."""
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidRules('%s: cannot read the retention rules: %s'
                           % (path, _one_line(e)))
    return parse(text, path)


def parse(text, source='<string>'):
    """The rules of a YAML document; ``source`` names it in errors."""
    try:
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 safe
    except yaml.MarkedYAMLError as e:
        raise InvalidRules('%s: not valid YAML: %s'
                           % (source, _yaml_problem(e)))
    except (yaml.YAMLError, ValueError, RecursionError) as e:
        # ValueError: a scalar that looks like a date but is none.
        raise InvalidRules('%s: not valid YAML: %s' % (source, _one_line(e)))
    if not isinstance(document, dict) or 'rules' not in document:
        raise InvalidRules('%s: expected a mapping with a "rules" list'
                           % source)
    unknown = sorted(safe_text.brief(key) for key in document
                     if key != 'rules')
    if unknown:
        raise InvalidRules('%s: unknown top-level key %s (only "rules")'
                           % (source, ', '.join(unknown)))
    rules = document['rules']
    if not isinstance(rules, list):
        raise InvalidRules('%s: "rules" must be a list of rules, not %s'
                           % (source, safe_text.brief(rules)))
    parsed = []
    for index, rule in enumerate(rules, 1):
        try:
            parsed.append(_rule(rule))
        except ValueError as e:
            raise InvalidRules('%s: rule %d: %s' % (source, index, e))
    return tuple(parsed)


def _rule(spec):
    if not isinstance(spec, dict):
        raise ValueError('expected a mapping of %s, not %s'
                         % (', '.join(RULE_KEYS), safe_text.brief(spec)))
    for key in spec:
        if key not in RULE_KEYS:
            raise ValueError('unknown key %s (known: %s)'
                             % (safe_text.shown(key), ', '.join(RULE_KEYS)))
    if not spec:
        raise ValueError('is empty')
    if 'event_type' not in spec and 'project_id' not in spec:
        raise ValueError('names neither event_type nor project_id: a rule '
                         'for every event is [database] event_time_to_live')
    if 'ttl' not in spec:
        raise ValueError('has no ttl')
    return Rule(
        event_type=(_pattern(spec['event_type']) if 'event_type' in spec
                    else None),
        project_id=(_name('project_id', spec['project_id'])
                    if 'project_id' in spec else None),
        ttl=_ttl(spec['ttl']))


def _ttl(value):
    """Seconds, or None for forever: an int, "<int>[smhd]", -1, forever."""
    if value == 'forever' or (type(value) is int and value == -1):
        return None
    if type(value) is int:
        seconds = value
    elif isinstance(value, str) and _TTL_TEXT.match(value):
        number, unit = _TTL_TEXT.match(value).groups()
        seconds = int(number) * UNITS[unit]
    else:
        raise ValueError('ttl %s is not seconds, a number with a unit '
                         '(s, m, h, d), -1 or "forever"'
                         % safe_text.shown(value))
    if not 0 < seconds <= MAX_TTL:
        raise ValueError('ttl %s is out of range: more than 0 seconds, at '
                         'most %dd; -1 or "forever" keeps events forever'
                         % (safe_text.shown(value), MAX_TTL // 86400))
    return seconds


def _name(key, value):
    if not isinstance(value, str):
        raise ValueError('%s %s must be a string (quote it)'
                         % (key, safe_text.shown(value)))
    if not value or len(value) > MAX_NAME or not value.isprintable():
        raise ValueError('%s %s must be 1 to %d printable characters'
                         % (key, safe_text.shown(value), MAX_NAME))
    return value


def _pattern(value):
    pattern = _name('event_type', value)
    if _unclosed_bracket(pattern):
        raise ValueError('event_type %s has a "[" without its "]" (write '
                         '"[[]" to match a "[")' % safe_text.shown(pattern))
    return pattern


def _unclosed_bracket(pattern):
    """Whether fnmatch would take a ``[`` of ``pattern`` literally.

    It does when no ``]`` closes the set, which is almost always a typo.
    """
    i, n = 0, len(pattern)
    while i < n:
        if pattern[i] == '[':
            j = i + 1
            if j < n and pattern[j] == '!':
                j += 1
            if j < n and pattern[j] == ']':
                j += 1
            j = pattern.find(']', j)
            if j < 0:
                return True
            i = j
        i += 1
    return False


class _Loader(yaml.SafeLoader):
    """safe_load, but a key given twice in a mapping is an error.

    PyYAML keeps the last value silently; in a rule, a repeated key is a
    mistake whichever value was meant.
    """

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == 'tag:yaml.org,2002:merge':
                continue  # "<<": merged keys may be overridden
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
                seen.add(key)
            except TypeError:
                continue  # unhashable: the base class reports it
            if repeated:
                raise yaml.constructor.ConstructorError(
                    None, None, 'key %s given twice' % safe_text.shown(key),
                    key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(error):
    mark = error.problem_mark or error.context_mark
    problem = error.problem or error.context or 'unreadable'
    if mark is None:
        return _one_line(problem)
    return '%s (line %d, column %d)' % (_one_line(problem), mark.line + 1,
                                        mark.column + 1)


def _one_line(error):
    return safe_text.brief(' '.join(str(error).split()), 300)


# Applying the rules

def keeps_everything(rules, ttl):
    """Whether no rule, nor the global ``ttl``, ever expires an event."""
    return ttl <= 0 and all(rule.ttl is None for rule in rules)


def needs_event_types(rules):
    """Whether :func:`selectors` needs the store's event types."""
    return any(rule.event_type is not None for rule in rules)


def oldest_cutoff(rules, ttl, now):
    """The moment before which no rule keeps any event; None if one does.

    Every event generated before it has expired, whatever its type and
    project: a driver may drop whole ranges of time up to it.
    """
    ttls = [rule.ttl for rule in rules] + [ttl if ttl > 0 else None]
    if None in ttls:
        return None
    return _cutoff(now, max(ttls))


def selectors(rules, ttl, event_types, now):
    """What to delete, as Selectors sorted by cutoff.

    ``ttl`` is the global TTL (0 or less keeps forever); ``event_types``
    the names of the store's event types, needed only when a rule has an
    event_type pattern (see needs_event_types). An event generated
    before ``now`` less the TTL that its first matching rule (or the
    global TTL) sets is selected by exactly one Selector, and no other
    event by any. Patterns are matched here, against the store's event
    types, so that drivers compare names, never patterns; a type stored
    after the names were read is left for the next run.
    """
    global_ttl = ttl if ttl > 0 else None
    if needs_event_types(rules):
        groups = {}
        for event_type in event_types:
            groups.setdefault(_decision(rules, global_ttl, event_type),
                              set()).add(event_type)
        decisions = [(decision, frozenset(names))
                     for decision, names in groups.items()]
    else:
        decisions = [(_decision(rules, global_ttl, None), None)]
    merged = {}
    for (by_project, default), names in decisions:
        kept = [(seconds, project, frozenset())
                for project, seconds in by_project]
        kept.append((default, None,
                     frozenset(project for project, _ in by_project)))
        for seconds, project, excluded in kept:
            if seconds is None:
                continue
            key = (_cutoff(now, seconds), project, excluded)
            if names is None:
                merged[key] = None
            else:
                merged[key] = merged.get(key, frozenset()) | names
    return [Selector(cutoff, names, project, excluded)
            for (cutoff, project, excluded), names in sorted(
                merged.items(), key=lambda item: (
                    item[0][0], item[0][1] or '', sorted(item[0][2])))]


def _decision(rules, global_ttl, event_type):
    """How long events of ``event_type`` are kept, project by project.

    ``(by_project, default)``: the TTL of each project that a rule
    applying to the type names before the first rule for any project, in
    file order (the first one of a project wins), and the TTL of every
    other project and of events without one. Hashable, so that types
    kept alike are deleted together.
    """
    by_project = {}
    default = global_ttl
    for rule in rules:
        if (rule.event_type is not None
                and not fnmatch.fnmatchcase(event_type, rule.event_type)):
            continue
        if rule.project_id is None:
            default = rule.ttl
            break
        by_project.setdefault(rule.project_id, rule.ttl)
    return tuple(sorted(by_project.items())), default


def _cutoff(now, seconds):
    return now - datetime.timedelta(seconds=seconds)
