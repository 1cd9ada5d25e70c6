"""POST /v2/events with events no engine can store as they are.

Each is rejected with its reason in the answer, the others stored; never
a 500. Escapes such as "\\ud800" are valid JSON: they are the way a lone
surrogate reaches panko.
"""

import json
from urllib import parse

from panko.tests.functional.api import test_post


def serialized(message_id, **fields):
    event = {'message_id': message_id, 'event_type': 'compute.update',
             'generated': '2026-03-01T12:00:00',
             'traits': [['host', 1, 'compute-1']], 'raw': {}}
    event.update(fields)
    return event


def test_unstorable_events_are_rejected_with_their_reasons(api, conn):
    smile = '\U0001f600'
    batch = [
        serialized('good-1'),
        serialized('late', generated='9999-12-31T23:59:59-05:00'),
        serialized('half-\ud800'),
        serialized('type', event_type='compute.\udfff'),
        serialized('trait-when', traits=[['when', 4, '0001-01-01T00:00:00']]),
        serialized('big', raw={'payload': 'x' * 300000}),
        serialized('many', traits=[['t%d' % n, 2, n] for n in range(300)]),
        serialized('emoji-' + smile, event_type='compute.' + smile,
                   traits=[['name', 1, 'vm ' + smile],
                           ['half', 1, 'pair \udc00']]),
    ]
    # ensure_ascii (the default) writes every character as an escape.
    response = api.post('/v2/events', json.dumps(batch).encode('ascii'),
                        headers=dict(test_post.SERVICE,
                                     **{'Content-Type': test_post.JSON}),
                        status=201)
    assert response.json['stored'] == 2
    reasons = {rejection['message_id']: rejection['reason']
               for rejection in response.json['rejections']}
    assert sorted(reasons) == sorted(
        ['late', 'half-\ud800', 'type', 'trait-when', 'big', 'many'])
    assert 'out of range once converted to UTC' in reasons['late']
    assert 'lone surrogate' in reasons['half-\ud800']
    assert 'lone surrogate' in reasons['type']
    assert 'before 1000-01-01' in reasons['trait-when']
    assert '[storage] max_event_raw_size' in reasons['big']
    assert '[storage] max_event_traits' in reasons['many']
    stored = test_post.read_back(api, parse.quote('emoji-' + smile)).json
    assert stored['event_type'] == 'compute.' + smile
    assert stored['traits'] == [
        {'name': 'half', 'type': 'string', 'value': 'pair \ufffd'},
        {'name': 'name', 'type': 'string', 'value': 'vm ' + smile}]
