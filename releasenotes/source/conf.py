"""Sphinx configuration of panko's release notes (built with reno)."""

extensions = [
    'openstackdocstheme',
    'reno.sphinxext',
]

project = 'panko Release Notes'
copyright = 'The Panko developers'  # noqa: A001
master_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'native'

html_theme = 'openstackdocs'

openstackdocs_repo_name = 'openstack/panko'
openstackdocs_bug_project = 'panko'
openstackdocs_auto_name = False
openstackdocs_use_storyboard = False
