"""panko-dead-letters: look at, replay and purge the dead letters.

A dead letter is what could not become stored events (an invalid or
badly signed event, a notification the definitions refuse, a message that
could not be read), kept by the storage driver for an operator. Replaying
one runs it through the same checks as when it came in, with today's
configuration: a letter whose event is now stored, or was already, is
deleted; one rejected again stays, with the new reason.

The letters are printed on the standard output, escaped to printable
ASCII; logs go to the standard error. Exit status: 0 when everything was
done, 1 when a letter stays after a replay, an id names no letter or a
purge is refused.
"""

import json
import sys

from oslo_config import cfg
from oslo_log import log

from panko import safe_text
from panko import service
from panko import storage
from panko.ingestion import definitions
from panko.ingestion import recorder
from panko.ingestion import wire
from panko.storage import models

#: Letters read from the store at a time: each may hold 1 MiB of JSON.
PAGE = 20
#: Widest message_id and reason ``list`` prints.
LIST_MESSAGE_ID = 40
LIST_REASON = 160


def _add_parsers(subparsers):
    listing = subparsers.add_parser(
        'list', help='One line per dead letter, oldest first: id, date '
                     '(UTC), door, kind, message_id, reason.')
    listing.add_argument('--door', help='Only the letters of this door '
                                        '(dispatcher, publisher, api).')
    listing.add_argument('--limit', type=int,
                         help='Print at most this many letters.')
    count = subparsers.add_parser('count', help='How many letters are kept.')
    count.add_argument('--door', help='Only the letters of this door.')
    show = subparsers.add_parser(
        'show', help='One letter as a JSON document, its payload included.')
    show.add_argument('id', type=int)
    replay = subparsers.add_parser(
        'replay', help='Store the events of letters again, every letter '
                       'when no id is given.')
    replay.add_argument('ids', nargs='*', type=int, metavar='ID')
    purge = subparsers.add_parser(
        'purge', help='Delete the given letters, or every one with --all.')
    purge.add_argument('ids', nargs='*', type=int, metavar='ID')
    purge.add_argument('--all', action='store_true',
                       help='Delete every dead letter.')


CLI_OPTS = [
    cfg.SubCommandOpt('command', title='Commands', handler=_add_parsers,
                      help='What to do with the dead letters.'),
]


def _error(text):
    print(text, file=sys.stderr)


def _letter(connection, letter_id):
    """The letter of an id, or None."""
    found = connection.get_dead_letters(limit=1, after_id=letter_id - 1)
    return found[0] if found and found[0].id == letter_id else None


def _every_letter(connection, door=None):
    """Every letter, oldest first, read a page at a time."""
    after_id = None
    while True:
        page = connection.get_dead_letters(limit=PAGE, after_id=after_id,
                                           door=door)
        yield from page
        if len(page) < PAGE:
            return
        after_id = page[-1].id


def _summary_line(letter):
    reason = letter.reason
    if letter.truncated:
        reason = '[payload truncated] %s' % reason
    return '%d  %s  %s  %s  %s  %s' % (
        letter.id, letter.created_at.isoformat(sep=' '),
        safe_text.printable(letter.door, models.MAX_DEAD_LETTER_NAME),
        safe_text.printable(letter.kind, models.MAX_DEAD_LETTER_NAME),
        safe_text.printable(letter.message_id or '-', LIST_MESSAGE_ID),
        safe_text.printable(reason, LIST_REASON))


def list_letters(conf, connection):
    limit = conf.command.limit
    for number, letter in enumerate(_every_letter(connection,
                                                  conf.command.door)):
        if limit is not None and number >= limit:
            break
        print(_summary_line(letter))
    return 0


def count_letters(conf, connection):
    print(connection.count_dead_letters(door=conf.command.door))
    return 0


def show_letter(conf, connection):
    letter = _letter(connection, conf.command.id)
    if letter is None:
        _error('No dead letter has the id %d' % conf.command.id)
        return 1
    # ASCII: a payload may hold lone surrogates and control characters.
    print(json.dumps({
        'id': letter.id,
        'created_at': letter.created_at.isoformat(),
        'door': letter.door,
        'kind': letter.kind,
        'message_id': letter.message_id,
        'reason': letter.reason,
        'truncated': letter.truncated,
        'payload': letter.payload,
    }, indent=2, ensure_ascii=True))
    return 0


class Replayer:
    """Replays letters one at a time, and counts what became of them."""

    def __init__(self, conf, connection):
        self.conf = conf
        self.connection = connection
        self._normalizer = None
        self.counts = {'stored': 0, 'already stored': 0, 'kept': 0}

    def normalizer(self):
        """The dispatcher's definitions, whether or not it uses them."""
        if self._normalizer is None:
            self._normalizer = definitions.load_configured(self.conf)
        return self._normalizer

    def replay(self, letter):
        """Replay one letter; delete it or keep it with its new reason."""
        why_not = self._not_replayable(letter)
        if why_not is not None:
            self._keep(letter, 'not replayable: %s' % why_not)
            return
        if letter.kind == 'event':
            outcome, reason = self._replay_events([letter.payload])
        elif letter.kind == 'message':
            outcome, reason = self._replay_events(letter.payload['payload'])
        else:
            outcome, reason = self._replay_notification(letter.payload)
        if outcome is None:
            self.connection.update_dead_letter_reason(letter.id, reason)
            self._keep(letter, reason)
        else:
            self.counts[outcome] += 1
            self.connection.delete_dead_letters([letter.id])
            print('%d: %s, deleted' % (letter.id, outcome))

    @staticmethod
    def _not_replayable(letter):
        if letter.truncated:
            return ('its payload was cut to %d characters when it was kept'
                    % models.MAX_DEAD_LETTER_PAYLOAD)
        if letter.kind == 'message' and not _holds_events(letter.payload):
            return 'the message holds no list of events'
        if letter.kind not in ('event', 'notification', 'message'):
            return 'a %s letter holds no event' % safe_text.printable(
                letter.kind, models.MAX_DEAD_LETTER_NAME)
        return None

    def _keep(self, letter, why):
        self.counts['kept'] += 1
        print('%d: kept, %s' % (letter.id, safe_text.printable(
            why, models.MAX_DEAD_LETTER_REASON)))

    def _replay_events(self, serialized):
        events, rejected = wire.parse_events(
            serialized, secret=self.conf.dispatcher.telemetry_secret,
            accept_unsigned=True)
        return self._record(events, rejected)

    def _replay_notification(self, payload):
        if not isinstance(payload, dict):
            return None, ('a notification must be a JSON object, got %s'
                          % wire.json_type(payload))
        priority = payload.get('priority')
        priority = priority.lower() if isinstance(priority, str) else 'info'
        try:
            event = self.normalizer().to_event(payload, priority)
        except definitions.InvalidNotification as e:
            return None, str(e)
        if event is None:
            return None, ('no event definition matches %s'
                          % payload.get('event_type'))
        return self._record([event], [])

    def _record(self, events, rejected):
        result = recorder.record(self.connection, events, rejected)
        if result.rejected:
            return None, result.rejected[0][1]
        if result.stored:
            return 'stored', None
        if result.duplicates:
            return 'already stored', None
        return None, 'it holds no event'


def _holds_events(message):
    """Whether a message set aside is Ceilometer's: a list of events."""
    return isinstance(message, dict) and isinstance(
        message.get('payload'), list)


def replay_letters(conf, connection):
    replayer = Replayer(conf, connection)
    missing = []
    if conf.command.ids:
        letters = []
        for letter_id in conf.command.ids:
            letter = _letter(connection, letter_id)
            if letter is None:
                missing.append(letter_id)
            else:
                letters.append(letter)
    else:
        letters = _every_letter(connection)
    failed = False
    try:
        for letter in letters:
            replayer.replay(letter)
    except definitions.DefinitionError as e:
        _error('Cannot load the event definitions, replay stopped: %s' % e)
        failed = True
    for letter_id in missing:
        _error('No dead letter has the id %d' % letter_id)
    counts = replayer.counts
    print('%d stored, %d already stored (deleted); %d kept'
          % (counts['stored'], counts['already stored'], counts['kept']))
    return 1 if failed or counts['kept'] or missing else 0


def purge_letters(conf, connection):
    ids, every = conf.command.ids, conf.command.all
    if ids and every:
        _error('Give ids or --all, not both')
        return 1
    if not ids and not every:
        _error('Refusing to delete every dead letter without --all')
        return 1
    deleted = connection.delete_dead_letters(None if every else ids)
    print('%d dead letters deleted' % deleted)
    if not every and deleted < len(set(ids)):
        _error('%d of the ids named no dead letter'
               % (len(set(ids)) - deleted))
        return 1
    return 0


COMMANDS = {
    'list': list_letters,
    'count': count_letters,
    'show': show_letter,
    'replay': replay_letters,
    'purge': purge_letters,
}


def main(argv=None):
    conf = cfg.ConfigOpts()
    conf.register_cli_opts(CLI_OPTS)
    # The letters go to the standard output; the logs must not mix in.
    log.register_options(conf)
    conf.set_default('use_stderr', True)
    service.prepare_service(argv, conf=conf)
    try:
        connection = storage.get_connection_from_config(conf)
        return COMMANDS[conf.command.name](conf, connection)
    except storage.StorageError as e:
        _error('Cannot reach the event store: %s' % e)
        return 1
