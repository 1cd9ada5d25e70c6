"""Sphinx configuration of panko's documentation.

The configuration and policy references are generated from the code by
oslo.config's and oslo.policy's Sphinx extensions, so they always list
the options and rules of the installed package.
"""

import os

extensions = [
    'openstackdocstheme',
    'oslo_config.sphinxext',
    'oslo_config.sphinxconfiggen',
    'oslo_policy.sphinxext',
    'oslo_policy.sphinxpolicygen',
]

_ETC = os.path.join(os.path.dirname(__file__), '..', '..', 'etc', 'panko')

config_generator_config_file = os.path.join(
    _ETC, 'panko-config-generator.conf')
sample_config_basename = '_static/panko'
policy_generator_config_file = os.path.join(
    _ETC, 'panko-policy-generator.conf')
sample_policy_basename = '_static/panko'

project = 'panko'
copyright = 'The Panko developers'  # noqa: A001
master_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'native'

html_theme = 'openstackdocs'

openstackdocs_repo_name = 'openstack/panko'
openstackdocs_bug_project = 'panko'
openstackdocs_auto_name = False
openstackdocs_use_storyboard = False
