"""The sample configuration and policy files of the API."""

import os
import subprocess
import sys

import panko
from panko.api import policies

REPO = os.path.dirname(os.path.dirname(panko.__file__))


def run(command, *args):
    path = os.path.join(os.path.dirname(sys.executable), command)
    return subprocess.run([path, *args], capture_output=True, text=True,
                          check=True, timeout=60, cwd=REPO).stdout


def test_policy_sample_lists_every_rule():
    output = run('oslopolicy-sample-generator', '--namespace', 'panko')
    for rule in policies.list_rules():
        assert '#"%s": "%s"' % (rule.name, rule.check_str) in output
    assert 'GET  /v2/events/{message_id}' in output


def test_config_sample_has_the_api_pipeline_options(tmp_path):
    sample = tmp_path / 'panko.conf.sample'
    run('oslo-config-generator', '--config-file',
        'etc/panko/panko-config-generator.conf', '--output-file', str(sample))
    text = sample.read_text()
    for section in ('[api]', '[keystone_authtoken]', '[cors]',
                    '[oslo_middleware]', '[oslo_policy]'):
        assert section in text
    assert '#auth_mode = keystone' in text
    assert '#port = 8977' in text
