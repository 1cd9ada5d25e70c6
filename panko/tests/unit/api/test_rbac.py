"""The ownership restriction: which events a caller may see."""

import pytest

from panko.api import rbac


@pytest.mark.parametrize('all_tenants', [False, True])
def test_a_caller_without_segregation_sees_its_own_events(all_tenants):
    # all_tenants is ignored, not an error.
    assert rbac.owner_restriction('p1', 'u1', False, all_tenants) == {
        'project_id': 'p1', 'user_id': 'u1'}


def test_segregation_sees_its_project_and_the_unowned_events():
    assert rbac.owner_restriction('p1', 'u1', True) == {
        'project_id': 'p1', 'include_unowned': True}


def test_segregation_with_all_tenants_is_not_restricted():
    assert rbac.owner_restriction('p1', 'u1', True, all_tenants=True) == {}
