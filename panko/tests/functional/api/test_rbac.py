"""Who sees which events, with the default policy and with a policy file."""

from oslo_policy import opts as policy_opts
import pytest
import webtest

from panko.api import app
from panko.tests import backends
from panko.tests.functional.api.data import ADMIN
from panko.tests.functional.api.data import MEMBER
from panko.tests.functional.api.data import OTHER_PROJECT
from panko.tests.functional.api.data import OTHER_USER
from panko.tests.functional.api.data import ids
from panko.tests.functional.api.data import visible

ALL_TENANTS = 'q.field=all_tenants&q.op=eq&q.value=True'
EVERYTHING = visible(lambda *row: True)
OWN = {
    'admin': visible(lambda m, t, project, u, g: project in ('p1', None)),
    'member': visible(lambda m, t, project, user, g:
                      project == 'p1' and user == 'u1'),
    'other user': visible(lambda m, t, project, user, g:
                          project == 'p1' and user == 'u2'),
    'other project': visible(lambda m, t, project, user, g:
                             project == 'p2' and user == 'u3'),
}
CALLERS = {'admin': ADMIN, 'member': MEMBER, 'other user': OTHER_USER,
           'other project': OTHER_PROJECT}


class TestListing:

    @pytest.mark.parametrize('caller', sorted(CALLERS))
    def test_default_restriction(self, api, events, caller):
        response = api.get('/v2/events', headers=CALLERS[caller])
        assert ids(response) == OWN[caller]

    @pytest.mark.parametrize('caller', sorted(CALLERS))
    def test_all_tenants_only_for_admin(self, api, events, caller):
        response = api.get('/v2/events?' + ALL_TENANTS,
                           headers=CALLERS[caller])
        expected = EVERYTHING if caller == 'admin' else OWN[caller]
        assert ids(response) == expected

    def test_all_tenants_false_keeps_the_restriction(self, api, events):
        response = api.get('/v2/events?q.field=all_tenants&q.value=false',
                           headers=ADMIN)
        assert ids(response) == OWN['admin']

    def test_a_project_filter_cannot_widen_the_view(self, api, events):
        response = api.get('/v2/events?q.field=project_id&q.value=p2',
                           headers=MEMBER)
        assert response.json == []

    def test_marker_of_an_invisible_event_is_rejected(self, api, events):
        response = api.get('/v2/events?marker=msg-03', headers=MEMBER,
                           status=400)
        assert 'marker' in response.json['error_message']['faultstring']

    @pytest.mark.parametrize('headers', [
        {},
        {'X-User-Id': 'u1', 'X-Roles': 'admin'},
        {'X-Project-Id': 'p1', 'X-Roles': 'admin'},
    ])
    @pytest.mark.parametrize('path', ['/v2/events', '/v2/events/msg-00'])
    def test_403_without_user_and_project(self, api, events, headers, path):
        response = api.get(path, headers=headers, status=403)
        assert 'X-User-Id' in response.json['error_message']['faultstring']


class TestShow:

    @pytest.mark.parametrize('caller, message_id, status', [
        ('member', 'msg-00', 200),
        ('member', 'msg-02', 404),   # same project, another user
        ('member', 'msg-03', 404),   # another project
        ('member', 'msg-06', 404),   # no project
        ('other project', 'msg-03', 200),
        ('other project', 'msg-00', 404),
        ('admin', 'msg-02', 200),
        ('admin', 'msg-06', 200),
        ('admin', 'msg-03', 404),
    ])
    def test_show(self, api, events, caller, message_id, status):
        response = api.get('/v2/events/' + message_id,
                           headers=CALLERS[caller], status=status)
        if status == 200:
            assert response.json['message_id'] == message_id
        else:
            assert 'traits' not in response.json
            assert response.json['error_message']['faultstring'] == (
                'Event %s not found' % message_id)

    def test_admin_reaches_any_event_with_all_tenants(self, api, events):
        response = api.get('/v2/events/msg-03?all_tenants=True',
                           headers=ADMIN)
        assert response.json['message_id'] == 'msg-03'

    @pytest.mark.parametrize('caller', ['member', 'other user'])
    def test_all_tenants_from_a_member_is_ignored(self, api, events,
                                                  caller):
        api.get('/v2/events/msg-03?all_tenants=True',
                headers=CALLERS[caller], status=404)

    def test_bad_all_tenants_value(self, api, events):
        response = api.get('/v2/events/msg-03?all_tenants=perhaps',
                           headers=ADMIN, status=400)
        assert 'all_tenants' in response.json['error_message']['faultstring']


class TestAdminOnly:

    PATHS = ['/v2/event_types',
             '/v2/event_types/',
             '/v2/event_types/compute.instance.update/traits',
             '/v2/event_types/compute.instance.update/traits/',
             '/v2/event_types/compute.instance.update/traits/memory_mb',
             '/v2/event_types/compute.instance.update']

    @pytest.mark.parametrize('path', PATHS)
    @pytest.mark.parametrize('caller', ['member', 'other project'])
    def test_403_for_members(self, api, events, path, caller):
        response = api.get(path, headers=CALLERS[caller], status=403)
        assert response.json['error_message']['faultcode'] == 'Client'

    def test_event_type_names_only_for_admins(self, api, events):
        # They are those of every project (Panko 10 made it admin only).
        response = api.get('/v2/event_types', headers=MEMBER, status=403)
        assert response.json['error_message'] == {
            'faultstring': 'Access was denied to this resource.',
            'faultcode': 'Client', 'debuginfo': None}
        assert api.get('/v2/event_types', headers=ADMIN).json == [
            'compute.instance.delete.end', 'compute.instance.update',
            'identity.authenticate']


class TestPolicyFile:

    @pytest.fixture
    def strict_api(self, storage_url, events, tmp_path):
        policy_file = tmp_path / 'policy.yaml'
        policy_file.write_text(
            '"telemetry:events:index": "role:reader"\n'
            '"telemetry:event_types:index": "role:reader"\n'
            '"segregation": "role:auditor"\n')
        conf = backends.make_conf(storage_url, api__auth_mode='noauth')
        for group, options in policy_opts.list_opts():
            conf.register_opts(options, group)
        conf.set_override('policy_file', str(policy_file), 'oslo_policy')
        return webtest.TestApp(app.load_app(conf))

    def test_rule_from_the_file_denies(self, strict_api):
        strict_api.get('/v2/events', headers=MEMBER, status=403)
        strict_api.get('/v2/event_types', headers=MEMBER, status=403)

    def test_rule_from_the_file_allows(self, strict_api):
        reader = dict(MEMBER, **{'X-Roles': 'reader'})
        assert 'identity.authenticate' in strict_api.get(
            '/v2/event_types', headers=reader).json

    def test_segregation_from_the_file(self, strict_api):
        auditor = dict(OTHER_PROJECT, **{'X-Roles': 'reader,auditor'})
        response = strict_api.get('/v2/events', headers=auditor)
        assert ids(response) == visible(
            lambda m, t, project, u, g: project in ('p2', None))
        response = strict_api.get('/v2/events?' + ALL_TENANTS,
                                  headers=auditor)
        assert ids(response) == EVERYTHING

    def test_rules_left_out_keep_their_defaults(self, strict_api):
        # show is not in the file: anyone with an identity may ask.
        response = strict_api.get('/v2/events/msg-00', headers=MEMBER)
        assert response.json['message_id'] == 'msg-00'
