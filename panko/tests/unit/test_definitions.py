import copy
import logging
import os

from oslo_config import cfg
import pytest
import yaml

from panko import service
from panko.ingestion import definitions
from panko.ingestion import wire
from panko.storage import models
from panko.tests import contract

Trait = models.Trait


def normalizer(specs, store_raw='none'):
    return definitions.Normalizer(
        [definitions.EventDefinition(spec, i)
         for i, spec in enumerate(specs, 1)], store_raw)


def notification(event_type='compute.instance.create.end', payload=None,
                 ctxt=None, publisher_id='compute.host1'):
    return {'ctxt': ctxt or {}, 'publisher_id': publisher_id,
            'event_type': event_type, 'payload': payload or {},
            'metadata': {'message_id': 'm-1',
                         'timestamp': '2026-11-25 03:07:10.216035'}}


def traits_of(event):
    return {t.name: t.value for t in event.validated().traits}


@pytest.fixture(scope='module')
def shipped():
    return definitions.Normalizer.from_file(contract.DEFINITIONS)


def test_agent_event_reproduced_from_the_raw_nova_notification(shipped):
    """Our definitions give every trait Ceilometer's agent gave."""
    agent_event = contract.fixture_events(
        'agent_event_compute_instance_create_end_signed')[0]
    ours = shipped.to_event(agent_event['raw'], 'info').validated()
    theirs = wire.parse_event(agent_event).validated()
    assert ours.message_id == theirs.message_id
    assert ours.generated == theirs.generated
    ours_traits = {t.name: (t.dtype, t.value) for t in ours.traits}
    for trait in theirs.traits:
        assert ours_traits[trait.name] == (trait.dtype, trait.value)


EXPECTED = {
    'nova_compute_instance_create_end': ('instance_id', 'memory_mb'),
    'nova_compute_instance_delete_end': ('instance_id', 'deleted_at'),
    'cinder_volume_create_end': ('volume_id', 'size'),
    'cinder_snapshot_create_end': ('snapshot_id', 'volume_size'),
    'neutron_network_create_end': ('resource_id', 'network_type'),
    'neutron_subnet_create_end': ('cidr', 'ip_version', 'network_id'),
    'neutron_port_create_end': ('device_id', 'ip_address'),
    'neutron_router_create_end': ('resource_id', 'external_network_id'),
    'heat_orchestration_stack_create_end': ('stack_name', 'state',
                                            'created_at'),
    'neutron_floatingip_create_end': ('floating_ip_address', 'port_id'),
    'glance_image_upload': ('resource_id', 'size'),
    'keystone_identity_authenticate': ('initiator_id', 'outcome'),
    'keystone_identity_project_created': ('target_id', 'action'),
}


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_shipped_definitions_normalize_each_sample(shipped, name):
    sample = contract.samples()[name]
    event = shipped.to_event(contract.as_received(sample), 'info')
    traits = traits_of(event)
    assert event.event_type == sample['event_type']
    assert traits['service'] == sample['publisher_id'].split('.')[0]
    for trait_name in EXPECTED[name]:
        assert trait_name in traits, trait_name
    if name == 'keystone_identity_authenticate':
        assert 'project_id' not in traits
    else:
        assert traits['project_id']


def test_samples_cover_every_shipped_sample_file():
    assert set(contract.samples()) == set(EXPECTED)


def test_catch_all_keeps_the_default_traits(shipped):
    event = shipped.to_event(notification(
        'unknown.thing.happened', payload={'project_id': 'p'},
        ctxt={'request_id': 'req-1', 'user_id': 'u', 'project_id': 'p'},
        publisher_id='magic.host9'), 'info')
    assert traits_of(event) == {'service': 'magic', 'request_id': 'req-1',
                                'project_id': 'p', 'user_id': 'u',
                                'tenant_id': 'p'}


def test_last_matching_definition_wins_and_exclusions_apply():
    n = normalizer([
        {'event_type': '*', 'traits': {'which': {'fields': 'payload.a'}}},
        {'event_type': ['compute.*', '!compute.secret'],
         'traits': {'which': {'fields': 'payload.b'}}},
    ])
    payload = {'a': 'first', 'b': 'second'}
    assert traits_of(n.to_event(notification('compute.x', payload),
                                'info'))['which'] == 'second'
    assert traits_of(n.to_event(notification('compute.secret', payload),
                                'info'))['which'] == 'first'


def test_only_exclusions_match_everything_else():
    n = normalizer([{'event_type': '!volume.*'}])
    assert n.to_event(notification('volume.create.end'), 'info') is None
    assert n.to_event(notification('image.upload'), 'info') is not None


def test_unmatched_notification_is_dropped():
    n = normalizer([{'event_type': 'compute.*'}])
    assert n.to_event(notification('image.upload'), 'info') is None


def test_field_list_takes_the_first_with_a_value():
    n = normalizer([{'event_type': '*', 'traits': {
        'owner': {'fields': ['payload.missing', 'payload.none',
                             'payload.owner', 'payload.other']}}}])
    event = n.to_event(notification(payload={
        'none': None, 'owner': 'o', 'other': 'x'}), 'info')
    assert traits_of(event)['owner'] == 'o'


def test_types_convert_and_bad_values_drop_the_trait_with_a_reason(caplog):
    n = normalizer([{'event_type': '*', 'traits': {
        'mem': {'type': 'int', 'fields': 'payload.mem'},
        'ratio': {'type': 'float', 'fields': 'payload.ratio'},
        'at': {'type': 'datetime', 'fields': 'payload.at'},
        'unset': {'type': 'int', 'fields': 'payload.unset'},
        'bad': {'type': 'int', 'fields': 'payload.bad'},
        'obj': {'fields': 'payload.obj'},
    }}])
    caplog.set_level(logging.WARNING)
    event = n.to_event(notification(payload={
        'mem': '2048', 'ratio': 1, 'at': '2026-11-25 03:06:40+00:00',
        'unset': '', 'bad': 'lots', 'obj': {'a': 1}}), 'info')
    traits = {t.name: (t.dtype, t.value) for t in event.validated().traits}
    assert traits['mem'] == (Trait.INT_TYPE, 2048)
    assert traits['ratio'] == (Trait.FLOAT_TYPE, 1.0)
    assert traits['at'][1].isoformat() == '2026-11-25T03:06:40'
    assert 'unset' not in traits and 'bad' not in traits
    assert 'obj' not in traits
    assert 'Dropping trait bad' in caplog.text
    assert 'payload.bad' in caplog.text
    assert 'Dropping trait obj' in caplog.text


def test_values_storage_would_refuse_drop_the_trait_not_the_event(caplog):
    n = normalizer([{'event_type': '*', 'traits': {
        'late': {'type': 'datetime', 'fields': 'payload.late'},
        'early': {'type': 'datetime', 'fields': 'payload.early'},
        'ancient': {'type': 'datetime', 'fields': 'payload.ancient'},
        'huge': {'type': 'int', 'fields': 'payload.huge'},
        'wide': {'type': 'float', 'fields': 'payload.wide'},
        'text': {'fields': 'payload.text'},
        'mem': {'type': 'int', 'fields': 'payload.mem'},
    }}])
    caplog.set_level(logging.WARNING)
    event = n.to_event(notification(payload={
        'late': '9999-12-31T23:59:59-05:00',
        'early': '0001-01-01T00:00:00+01:00',
        'ancient': '0999-12-31T23:59:59',
        'huge': 2 ** 64, 'wide': 10 ** 400,
        'text': 'half \ud800 pair\x00', 'mem': 512}), 'info')
    traits = {t.name: t.value for t in event.validated().traits}
    assert traits == {'service': 'compute', 'mem': 512,
                      'text': 'half \ufffd pair'}
    for name in ('late', 'early', 'ancient', 'huge', 'wide'):
        assert 'Dropping trait %s ' % name in caplog.text


@pytest.mark.parametrize('metadata', [
    {'message_id': 'm-\ud800'},
    {'timestamp': '9999-12-31T23:59:59-05:00'},
])
def test_an_event_whose_identity_storage_refuses_is_rejected(metadata):
    note = notification()
    note['metadata'].update(metadata)
    event = normalizer([{'event_type': '*'}]).to_event(note, 'info')
    with pytest.raises(models.InvalidEvent):
        event.validated()


def test_split_plugin():
    n = normalizer([{'event_type': '*', 'traits': {
        'host': {'fields': 'publisher_id',
                 'plugin': {'name': 'split', 'parameters': {
                     'segment': 1, 'max_split': 1}}},
        'third': {'fields': 'publisher_id',
                  'plugin': {'name': 'split', 'parameters': {
                      'segment': 5}}},
    }}])
    traits = traits_of(n.to_event(
        notification(publisher_id='compute.host1.example.org'), 'info'))
    assert traits['host'] == 'host1.example.org'
    assert 'third' not in traits


def test_bitfield_plugin():
    n = normalizer([{'event_type': '*', 'traits': {
        'flags': {'type': 'int',
                  'fields': ['payload.ok', 'payload.state', 'payload.x'],
                  'plugin': {'name': 'bitfield', 'parameters': {
                      'initial_bitfield': 8,
                      'flags': [
                          {'path': 'payload.ok', 'bit': 0},
                          {'path': 'payload.state', 'bit': 1,
                           'value': 'active'},
                          {'path': 'payload.x', 'bit': 2,
                           'value': 'never'}]}}}}}])
    traits = traits_of(n.to_event(notification(payload={
        'ok': True, 'state': 'active', 'x': 'y'}), 'info'))
    assert traits['flags'] == 8 | 1 | 2


def test_timedelta_plugin():
    n = normalizer([{'event_type': '*', 'traits': {
        'took': {'type': 'float',
                 'fields': ['payload.created_at', 'payload.launched_at'],
                 'plugin': 'timedelta'}}}])
    traits = traits_of(n.to_event(notification(payload={
        'created_at': '2026-11-25 03:06:40+00:00',
        'launched_at': '2026-11-25T03:07:10.5'}), 'info'))
    assert traits['took'] == 30.5
    missing = n.to_event(notification(payload={
        'created_at': '2026-11-25 03:06:40'}), 'info')
    assert 'took' not in traits_of(missing)


@pytest.mark.parametrize('store_raw, priority, kept', [
    ('none', 'error', False), ('error', 'info', False),
    ('error', 'error', True), ('error', 'critical', True),
    ('all', 'info', True),
])
def test_store_raw_levels(store_raw, priority, kept):
    n = normalizer([{'event_type': '*'}], store_raw)
    message = notification(payload={'a': 1})
    event = n.to_event(message, priority)
    assert (event.raw == message) is kept
    assert kept or event.raw == {}


@pytest.mark.parametrize('change, reason', [
    (lambda m: m.pop('event_type'), 'event_type is missing'),
    (lambda m: m.pop('metadata'), 'metadata is missing'),
    (lambda m: m['metadata'].pop('message_id'),
     'metadata.message_id is missing'),
    (lambda m: m['metadata'].pop('timestamp'),
     'metadata.timestamp is missing'),
])
def test_notification_without_required_fields(change, reason):
    message = notification()
    change(message)
    with pytest.raises(definitions.InvalidNotification, match=reason):
        normalizer([{'event_type': '*'}]).to_event(message, 'info')


@pytest.mark.parametrize('specs, reason', [
    ({'event_type': '*'}, 'must hold a list of definitions'),
    ([{'traits': {}}], 'definition #1 needs "event_type"'),
    ([{'event_type': '*'}, {'event_type': [1]}],
     'definition #2: event_type must be a pattern or a list'),
    ([{'event_type': []}], 'definition #1: event_type must be'),
    ([{'event_type': '*', 'traits': {'a': {'type': 'int'}}}],
     'trait a needs "fields"'),
    ([{'event_type': '*', 'traits': {'a': {'fields': 'payload.[[['}}}],
     'trait a: bad field'),
    ([{'event_type': '*', 'traits': {'a': {'fields': 'x', 'type': 'blob'}}}],
     "trait a: type 'blob' is not one of"),
    ([{'event_type': '*', 'traits': {'a': {'fields': 'x',
                                           'plugin': 'nope'}}}],
     "cannot load plugin 'nope'"),
    ([{'event_type': '*', 'traits': {'a': {'fields': 'x', 'plugin': {
        'name': 'split', 'parameters': {'bogus': 1}}}}}],
     "cannot load plugin 'split'"),
])
def test_bad_definitions_file(tmp_path, specs, reason):
    path = tmp_path / 'defs.yaml'
    path.write_text(yaml.safe_dump(specs))
    with pytest.raises(definitions.DefinitionError, match=reason):
        definitions.Normalizer.from_file(str(path))


def test_unreadable_definitions_file(tmp_path):
    with pytest.raises(definitions.DefinitionError, match='cannot read'):
        definitions.Normalizer.from_file(str(tmp_path / 'missing.yaml'))


def conf_in(directory, **dispatcher):
    """A configuration read from a panko.conf in ``directory``."""
    path = directory / 'panko.conf'
    path.write_text('[dispatcher]\n' + ''.join(
        '%s = %s\n' % option for option in dispatcher.items()))
    conf = cfg.ConfigOpts()
    service.register_options(conf)
    conf(['--config-file', str(path)], project='panko')
    return conf


def test_the_sample_is_the_packaged_file():
    assert os.path.samefile(contract.DEFINITIONS, definitions.PACKAGED_FILE)


def test_unset_definitions_are_the_packaged_ones(tmp_path, caplog):
    caplog.set_level(logging.INFO, 'panko.ingestion.definitions')
    conf = conf_in(tmp_path)
    assert definitions.configured_file(conf) == definitions.PACKAGED_FILE
    normalizer = definitions.load_configured(conf)
    event = normalizer.to_event(notification(payload={
        'instance_id': 'vm-1', 'memory_mb': 2048}), 'info')
    assert traits_of(event)['memory_mb'] == 2048
    assert caplog.messages[0] == (
        'Loading event definitions from %s' % definitions.PACKAGED_FILE)


def test_unset_definitions_prefer_a_copy_next_to_the_config(tmp_path):
    (tmp_path / 'event_definitions.yaml').write_text(
        "- event_type: 'mine.*'\n  traits: {}\n")
    conf = conf_in(tmp_path)
    assert definitions.configured_file(conf) == str(
        tmp_path / 'event_definitions.yaml')
    normalizer = definitions.load_configured(conf)
    assert normalizer.to_event(notification(), 'info') is None
    assert normalizer.to_event(notification('mine.x'), 'info') is not None


def test_configured_definitions_are_looked_up_next_to_the_config(tmp_path):
    (tmp_path / 'defs.yaml').write_text("- event_type: 'mine.*'\n"
                                        "  traits: {}\n")
    conf = conf_in(tmp_path, definitions_file='defs.yaml')
    assert definitions.configured_file(conf) == str(tmp_path / 'defs.yaml')


def test_configured_definitions_that_are_missing_are_an_error(tmp_path):
    """Never the packaged ones instead of the file the operator named."""
    conf = conf_in(tmp_path, definitions_file='mine.yaml')
    with pytest.raises(definitions.DefinitionError,
                       match='cannot read mine.yaml'):
        definitions.load_configured(conf)


def test_definition_traits_override_the_defaults():
    n = normalizer([{'event_type': '*', 'traits': {
        'service': {'fields': 'payload.svc'}}}])
    message = notification(payload={'svc': 'mine'}, ctxt={'user': 'u'})
    traits = traits_of(n.to_event(copy.deepcopy(message), 'info'))
    assert traits['service'] == 'mine'
    assert traits['user_id'] == 'u'
