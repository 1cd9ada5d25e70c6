"""Retention rules: the file's validation and what the rules select.

The deletions themselves run on every backend in
panko/tests/functional/storage/test_retention.py.
"""

import datetime
import os

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest
import yaml

from panko.storage import retention

Rule = retention.Rule
DAY = 86400
NOW = datetime.datetime(2026, 12, 1, 12, 0, 0)
SAMPLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'etc',
                      'panko', 'retention_rules.yaml.sample')


def parse(text):
    return retention.parse(text, 'rules.yaml')


class TestParse:

    def test_rules_in_file_order(self):
        assert parse('''
rules:
  - event_type: "identity.authenticate"
    ttl: 7d
  - project_id: 4c2b
    ttl: 365d
  - event_type: "compute.instance.*"
    project_id: 4c2b
    ttl: forever
''') == (Rule(event_type='identity.authenticate', ttl=7 * DAY),
         Rule(project_id='4c2b', ttl=365 * DAY),
         Rule(event_type='compute.instance.*', project_id='4c2b', ttl=None))

    @pytest.mark.parametrize('ttl, seconds', [
        ('3600', 3600), ('"3600"', 3600), ('45s', 45), ('30m', 1800),
        ('12h', 43200), ('7d', 7 * DAY), ('36500d', 36500 * DAY),
        ('-1', None), ('forever', None), ('"forever"', None)])
    def test_ttl_forms(self, ttl, seconds):
        [rule] = parse('rules: [{event_type: a, ttl: %s}]' % ttl)
        assert rule.ttl == seconds

    def test_no_rules(self):
        assert parse('rules: []') == ()

    def test_rules_are_immutable(self):
        rules = parse('rules: [{event_type: a, ttl: 1}]')
        with pytest.raises(AttributeError):
            rules[0].ttl = 2

    @pytest.mark.parametrize('text, problem', [
        ('', 'expected a mapping with a "rules" list'),
        ('- {event_type: a, ttl: 1}', 'expected a mapping with a "rules"'),
        ('rules:', '"rules" must be a list of rules, not None'),
        ('rules: {event_type: a, ttl: 1}', '"rules" must be a list'),
        ('rules: []\nrule: []', "unknown top-level key rule"),
        ('rules: [3]', 'rule 1: expected a mapping of event_type, '
                       'project_id, ttl, not 3'),
        ('rules: [{event_type: a, ttl: 1}, {}]', 'rule 2: is empty'),
        ('rules: [{ttl: 1}]', 'rule 1: names neither event_type nor '
                              'project_id'),
        ('rules: [{event_type: a}]', 'rule 1: has no ttl'),
        ('rules: [{event_typ: a, ttl: 1}]',
         "rule 1: unknown key 'event_typ' (known: event_type, project_id, "
         "ttl)"),
        ('rules: [{event_type: a, ttl: 0}]', 'rule 1: ttl 0 is out of range'),
        ('rules: [{event_type: a, ttl: -2}]', 'ttl -2 is out of range'),
        ('rules: [{event_type: a, ttl: 36501d}]', 'out of range'),
        ('rules: [{event_type: a, ttl: 7 d}]', "ttl '7 d' is not seconds"),
        ('rules: [{event_type: a, ttl: 7w}]', "ttl '7w' is not seconds"),
        ('rules: [{event_type: a, ttl: 1.5}]', 'ttl 1.5 is not seconds'),
        ('rules: [{event_type: a, ttl: yes}]', 'ttl True is not seconds'),
        ('rules: [{event_type: a, ttl: Forever}]', 'is not seconds'),
        ('rules: [{event_type: "a.[b", ttl: 1}]',
         'event_type \'a.[b\' has a "[" without its "]"'),
        ('rules: [{event_type: "", ttl: 1}]',
         'event_type \'\' must be 1 to 255 printable characters'),
        ('rules: [{event_type: "a\\nb", ttl: 1}]', 'printable characters'),
        ('rules: [{event_type: 12, ttl: 1}]',
         'event_type 12 must be a string (quote it)'),
        ('rules: [{event_type: , ttl: 1}]', 'event_type None must be a'),
        ('rules: [{project_id: 1234, ttl: 1}]',
         'project_id 1234 must be a string (quote it)'),
        ('rules: [{project_id: "%s", ttl: 1}]' % ('p' * 256),
         'must be 1 to 255 printable characters'),
        ('rules: [{event_type: a, event_type: b, ttl: 1}]',
         "not valid YAML: key 'event_type' given twice (line 1"),
        ('rules: [{event_type: a, ttl: 1}', 'not valid YAML: expected'),
        ('rules: 2026-02-30', 'not valid YAML: day is out of range'),
        ('rules: !!python/object:os.system {}', 'not valid YAML'),
        ('[' * 5000, 'not valid YAML'),
    ])
    def test_invalid_files_name_the_file_the_rule_and_the_problem(
            self, text, problem):
        with pytest.raises(retention.InvalidRules) as raised:
            parse(text)
        message = str(raised.value)
        assert message.startswith('rules.yaml: ')
        assert problem in message
        assert '\n' not in message

    def test_merge_keys_may_override(self):
        rules = parse('rules:\n - &base {event_type: a, ttl: 1}\n'
                      ' - {<<: *base, ttl: 2}\n')
        assert [rule.ttl for rule in rules] == [1, 2]

    def test_the_sample_file_is_valid(self):
        rules = retention.load(SAMPLE)
        assert rules
        assert rules[0] == Rule(event_type='identity.authenticate',
                                ttl=7 * DAY)

    def test_a_missing_file_is_named(self, tmp_path):
        path = str(tmp_path / 'nowhere.yaml')
        with pytest.raises(retention.InvalidRules,
                           match='nowhere.yaml: cannot read the retention '
                                 'rules: .*No such file'):
            retention.load(path)

    def test_a_file_not_in_utf8_is_refused(self, tmp_path):
        path = tmp_path / 'latin1.yaml'
        path.write_bytes(b'rules: [{event_type: \xe9, ttl: 1}]')
        with pytest.raises(retention.InvalidRules,
                           match='latin1.yaml: cannot read'):
            retention.load(str(path))


#: Text made of what YAML and the rules are made of, to reach every
#: branch of the parser rather than fail at its first character.
YAMLISH = st.lists(st.sampled_from(
    list('rules:-[]{}!&*|>\'"#%@`,?.\\\n\t 0123456789dhmsx\x00\u00e9')
    + ['rules', 'event_type', 'project_id', 'ttl', 'forever', '-1', '7d',
       '\n  - ', '!!python/name:os.system', '<<', 'null', 'true']),
    max_size=60).map(''.join)
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats()
           | st.text(max_size=10)
           | st.sampled_from(['7d', '-1', 'forever', 'a.*', '[', '10x']))
KEYS = st.sampled_from(list(retention.RULE_KEYS) + ['rules', 'x']) | SCALARS
DOCUMENTS = st.recursive(
    SCALARS, lambda children: st.lists(children, max_size=4)
    | st.dictionaries(KEYS, children, max_size=4), max_leaves=12)


def parses_or_refuses(text):
    try:
        rules = parse(text)
    except retention.InvalidRules as e:
        assert str(e).startswith('rules.yaml: ')
        assert '\n' not in str(e)
        return
    assert isinstance(rules, tuple)
    assert all(isinstance(rule, Rule) for rule in rules)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=st.text(max_size=200) | YAMLISH)
def test_any_text_parses_or_is_refused_with_the_validation_error(text):
    parses_or_refuses(text)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(rules=st.lists(DOCUMENTS, max_size=4), top=DOCUMENTS)
def test_any_document_parses_or_is_refused(rules, top):
    parses_or_refuses(yaml.safe_dump({'rules': rules}))
    parses_or_refuses(yaml.safe_dump(top))


# What the rules select

TYPES = ['identity.authenticate', 'compute.instance.update',
         'compute.instance.delete.end', 'Compute.instance.update',
         'image.upload', 'a[b]']
PROJECTS = ['p1', 'p2', 'p3', None]
RULES = st.lists(st.builds(
    Rule,
    event_type=st.sampled_from([None, 'compute.*', 'compute.instance.*',
                                '*.update', 'identity.authenticate',
                                'image.?pload', '*', 'a[[]b]', 'nothing']),
    project_id=st.sampled_from([None, 'p1', 'p2']),
    ttl=st.sampled_from([None, 3600, DAY, 7 * DAY, 365 * DAY])).filter(
        lambda rule: rule.event_type or rule.project_id), max_size=6)
GLOBAL_TTLS = st.sampled_from([-1, 0, 3600, DAY, 30 * DAY])
EVENTS = st.lists(st.tuples(
    st.sampled_from(TYPES), st.sampled_from(PROJECTS),
    st.integers(min_value=0, max_value=400 * DAY)), max_size=30)


def first_match_ttl(rules, ttl, event_type, project_id):
    """The TTL the rules give an event, as the documentation says it."""
    for rule in rules:
        if rule.matches(event_type, project_id):
            return rule.ttl
    return ttl if ttl > 0 else None


def is_selected(selector, event_type, project_id, generated):
    """What a driver's query of the selector matches."""
    return (generated < selector.cutoff
            and (selector.event_types is None
                 or event_type in selector.event_types)
            and (project_id == selector.project_id
                 if selector.project_id is not None
                 else project_id not in selector.excluded_projects))


@settings(max_examples=500, deadline=None, derandomize=True)
@given(rules=RULES, ttl=GLOBAL_TTLS, events=EVENTS)
def test_selectors_delete_what_the_first_matching_rule_expires(
        rules, ttl, events):
    stored_types = sorted({event_type for event_type, _, _ in events})
    selectors = retention.selectors(rules, ttl, stored_types, NOW)
    oldest = retention.oldest_cutoff(rules, ttl, NOW)
    for event_type, project_id, age in events:
        generated = NOW - datetime.timedelta(seconds=age)
        kept_for = first_match_ttl(rules, ttl, event_type, project_id)
        expired = kept_for is not None and age > kept_for
        matches = [selector for selector in selectors
                   if is_selected(selector, event_type, project_id,
                                  generated)]
        assert len(matches) == (1 if expired else 0)
        if oldest is not None and generated < oldest:
            assert expired
    assert len(selectors) == len({(s.cutoff, s.project_id,
                                   s.excluded_projects) for s in selectors})
    if retention.keeps_everything(rules, ttl):
        assert retention.selectors(rules, ttl, TYPES, NOW) == []


def test_without_rules_one_selector_of_every_event():
    assert retention.selectors((), 3600, None, NOW) == [
        retention.Selector(NOW - datetime.timedelta(hours=1))]
    assert retention.selectors((), 0, None, NOW) == []
    assert retention.oldest_cutoff((), 3600, NOW) == (
        NOW - datetime.timedelta(hours=1))
    assert retention.oldest_cutoff((), -1, NOW) is None


def test_project_rules_need_no_event_types():
    rules = (Rule(project_id='p1', ttl=None),)
    assert not retention.needs_event_types(rules)
    assert retention.selectors(rules, 3600, None, NOW) == [
        retention.Selector(NOW - datetime.timedelta(hours=1),
                           excluded_projects=frozenset({'p1'}))]


def test_the_oldest_cutoff_is_that_of_the_longest_ttl():
    rules = (Rule(event_type='a', ttl=DAY), Rule(project_id='p', ttl=7 * DAY))
    assert retention.oldest_cutoff(rules, 3600, NOW) == (
        NOW - datetime.timedelta(days=7))
    assert retention.oldest_cutoff(rules, -1, NOW) is None
    assert retention.oldest_cutoff(
        rules + (Rule(event_type='b', ttl=None),), 3600, NOW) is None
