"""Native normalization: raw OpenStack notifications into events.

Driven by an ``event_definitions.yaml`` in Ceilometer's documented format:
a list of definitions, each with ``event_type`` (a glob pattern or a list
of them; patterns starting with ``!`` exclude) and ``traits`` (a mapping
of trait name to ``fields``: a JSONPath expression or a list of them, the
first that has a value winning; ``type``: text, int, float or datetime;
and an optional ``plugin``). When several definitions match an event
type, the last one in the file wins, as in Ceilometer. Every definition
also gets the default traits (service, request_id, project_id, user_id,
tenant_id) unless it defines a trait of the same name.

The JSONPath expressions are compiled once, with jsonpath-ng's extended
parser.

The definitions panko ships are package data (``PACKAGED_FILE``);
``etc/panko/event_definitions.yaml``, the sample deployers copy and edit,
is the same file.
"""

import fnmatch
import os

from jsonpath_ng import ext as jsonpath
from oslo_log import log
from stevedore import driver
import yaml

from panko import safe_text
from panko.storage import models

LOG = log.getLogger(__name__)

Trait = models.Trait

PLUGIN_NAMESPACE = 'panko.event.trait_plugin'

#: The definitions panko ships, installed with the package.
PACKAGED_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             'data', 'event_definitions.yaml')
#: Looked up next to the configuration files when ``[dispatcher]
#: definitions_file`` is unset: where the install guide copies it.
DEFAULT_NAME = 'event_definitions.yaml'

TRAIT_TYPES = {
    'text': Trait.TEXT_TYPE,
    'int': Trait.INT_TYPE,
    'float': Trait.FLOAT_TYPE,
    'datetime': Trait.DATETIME_TYPE,
}

DEFAULT_TRAITS = {
    'service': {'fields': 'publisher_id', 'plugin': 'split'},
    'request_id': {'fields': ['ctxt.request_id',
                              'ctxt.global_request_id']},
    'project_id': {'fields': ['ctxt.project_id', 'ctxt.project',
                              'ctxt.tenant_id', 'ctxt.tenant']},
    'user_id': {'fields': ['ctxt.user_id', 'ctxt.user']},
    'tenant_id': {'fields': ['ctxt.tenant_id', 'ctxt.tenant',
                             'ctxt.project_id', 'ctxt.project']},
}

#: What ``[dispatcher] store_raw`` keeps the raw notification for.
RAW_PRIORITIES = {
    'none': (),
    'error': ('error', 'critical'),
    'all': ('audit', 'debug', 'info', 'warn', 'error', 'critical',
            'sample'),
}


class DefinitionError(ValueError):
    """An event definition that cannot be used; the text says where."""


class InvalidNotification(ValueError):
    """A notification that cannot become an event; the text says why."""


class TraitDefinition:
    def __init__(self, name, spec):
        self.name = name
        if not isinstance(spec, dict) or 'fields' not in spec:
            raise DefinitionError('trait %s needs "fields"' % name)
        fields = spec['fields']
        self.fields = fields if isinstance(fields, list) else [fields]
        self.paths = []
        for field in self.fields:
            try:
                self.paths.append(jsonpath.parse(field))
            except Exception as e:
                raise DefinitionError('trait %s: bad field %r: %s'
                                      % (name, field, e))
        type_name = spec.get('type', 'text')
        if type_name not in TRAIT_TYPES:
            raise DefinitionError('trait %s: type %r is not one of %s'
                                  % (name, type_name, sorted(TRAIT_TYPES)))
        self.dtype = TRAIT_TYPES[type_name]
        self.plugin = self._load_plugin(spec.get('plugin'))

    def _load_plugin(self, plugin):
        if plugin is None:
            return None
        if isinstance(plugin, str):
            plugin = {'name': plugin}
        if not isinstance(plugin, dict) or 'name' not in plugin:
            raise DefinitionError('trait %s: plugin needs a name'
                                  % self.name)
        try:
            return driver.DriverManager(
                PLUGIN_NAMESPACE, plugin['name'], invoke_on_load=True,
                invoke_kwds=plugin.get('parameters') or {}).driver
        except Exception as e:
            raise DefinitionError('trait %s: cannot load plugin %r: %s'
                                  % (self.name, plugin['name'], e))

    def matches(self, notification):
        """The (path, value) pairs the fields find, None values left out."""
        return [(str(match.full_path), match.value)
                for path in self.paths
                for match in path.find(notification)
                if match.value is not None]

    def to_trait(self, notification):
        """The trait for a notification; None if it has no value.

        Raises ValueError when storage would refuse the value: it does
        not fit the trait's type or its range (see
        models.validated_trait, which gives the trait as it is stored).
        """
        matches = self.matches(notification)
        if self.plugin is not None:
            value = self.plugin.trait_value(matches)
        else:
            value = matches[0][1] if matches else None
        # Services send "" for an unset number or time; that is no value.
        if value is None or (value == '' and self.dtype != Trait.TEXT_TYPE):
            return None
        return models.validated_trait(Trait(self.name, self.dtype, value))


class EventDefinition:
    def __init__(self, spec, position):
        where = 'definition #%d' % position
        if not isinstance(spec, dict) or 'event_type' not in spec:
            raise DefinitionError('%s needs "event_type"' % where)
        patterns = spec['event_type']
        if isinstance(patterns, str):
            patterns = [patterns]
        if not (isinstance(patterns, list) and patterns
                and all(isinstance(p, str) for p in patterns)):
            raise DefinitionError('%s: event_type must be a pattern or a '
                                  'list of patterns' % where)
        self.included = [p for p in patterns if not p.startswith('!')]
        self.excluded = [p[1:] for p in patterns if p.startswith('!')]
        traits = spec.get('traits') or {}
        if not isinstance(traits, dict):
            raise DefinitionError('%s: traits must be a mapping' % where)
        specs = {**DEFAULT_TRAITS, **traits}
        try:
            self.traits = [TraitDefinition(name, trait_spec)
                           for name, trait_spec in specs.items()]
        except DefinitionError as e:
            raise DefinitionError('%s (%s): %s' % (where, patterns, e))

    def matches_type(self, event_type):
        if any(fnmatch.fnmatchcase(event_type, p) for p in self.excluded):
            return False
        return not self.included or any(
            fnmatch.fnmatchcase(event_type, p) for p in self.included)

    def traits_of(self, notification):
        """The traits found in a notification.

        A trait whose value storage would refuse is dropped with a
        warning: the event is kept with its other traits.
        """
        traits = []
        for definition in self.traits:
            try:
                trait = definition.to_trait(notification)
            except (ValueError, TypeError) as e:
                LOG.warning('Dropping trait %s of %s %s (fields %s): %s',
                            definition.name,
                            safe_text.brief(notification['event_type']),
                            safe_text.brief(
                                notification['metadata'].get('message_id')),
                            definition.fields, safe_text.reason(e))
                continue
            if trait is not None:
                traits.append(trait)
        return traits


class Normalizer:
    """Turns notifications into events with a list of definitions."""

    def __init__(self, definitions, store_raw='none'):
        self.definitions = definitions
        self.raw_priorities = RAW_PRIORITIES[store_raw]

    @classmethod
    def from_file(cls, path, store_raw='none'):
        try:
            with open(path) as f:
                specs = yaml.safe_load(f)
        except (OSError, yaml.YAMLError) as e:
            raise DefinitionError('cannot read %s: %s' % (path, e))
        if not isinstance(specs, list):
            raise DefinitionError('%s must hold a list of definitions'
                                  % path)
        return cls([EventDefinition(spec, position)
                    for position, spec in enumerate(specs, 1)], store_raw)

    def definition_for(self, event_type):
        for definition in reversed(self.definitions):
            if definition.matches_type(event_type):
                return definition
        return None

    def to_event(self, notification, priority):
        """The event for a notification as oslo.messaging hands it over.

        ``notification`` has ctxt, publisher_id, event_type, payload and
        metadata (message_id, timestamp). Returns None when no definition
        matches its event type; raises InvalidNotification when a field an
        event needs is missing.
        """
        event_type = notification.get('event_type')
        if not isinstance(event_type, str) or not event_type:
            raise InvalidNotification('event_type is missing')
        metadata = notification.get('metadata')
        if not isinstance(metadata, dict):
            raise InvalidNotification('metadata is missing')
        for field in ('message_id', 'timestamp'):
            if not isinstance(metadata.get(field), str):
                raise InvalidNotification('metadata.%s is missing' % field)
        definition = self.definition_for(event_type)
        if definition is None:
            LOG.debug('No event definition matches %s; dropped', event_type)
            return None
        raw = notification if priority in self.raw_priorities else {}
        return models.Event(message_id=metadata['message_id'],
                            event_type=event_type,
                            generated=metadata['timestamp'],
                            traits=definition.traits_of(notification),
                            raw=raw)


def configured_file(conf):
    """The definitions file ``[dispatcher] definitions_file`` asks for.

    A relative path is looked up next to the configuration files; one
    that is not found stays as it is, so that loading it fails with its
    name. Unset, an ``event_definitions.yaml`` next to the configuration
    files is used if there is one, else the definitions panko ships: a
    dispatcher configured only through environment variables, or with no
    copy of the file, works as it is.
    """
    name = conf.dispatcher.definitions_file
    if name:
        return conf.find_file(name) or name
    return conf.find_file(DEFAULT_NAME) or PACKAGED_FILE


def load_configured(conf):
    """The Normalizer of the configured definitions (see configured_file).

    Raises DefinitionError when the file cannot be read or is invalid.
    """
    path = configured_file(conf)
    LOG.info('Loading event definitions from %s', path)
    return Normalizer.from_file(path, conf.dispatcher.store_raw)
