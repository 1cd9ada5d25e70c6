"""The devstack plugin, run by bash with devstack's functions stubbed.

Each stub records its name and arguments; ``sudo``, ``cp`` and the files
the plugin writes act for real inside a temporary directory, so the tests
read back the configuration a real stack would get. ``enable_service`` only
records: each test chooses ENABLED_SERVICES itself.
"""

import os
import pwd
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SEP = '\x1f'

STUBS = r'''
record() { local IFS=$'\x1f'; printf '%s\n' "$*" >> "$CALLS"; }
for stub in enable_service echo_summary setup_develop install_apache_uwsgi \
        install_apache_wsgi iniset iniset_rpc_backend \
        configure_keystone_authtoken_middleware recreate_database \
        create_service_user get_or_create_endpoint run_process stop_process \
        wait_for_service write_uwsgi_config remove_uwsgi_config \
        enable_apache_site disable_apache_site restart_apache_server; do
    eval "$stub() { record $stub \"\$@\"; }"
done
die() { shift; record die "$@"; exit 1; }
sudo() { record sudo "$@"; "$@"; }
is_service_enabled() {
    local service
    for service in "$@"; do
        if declare -F "is_${service}_enabled" > /dev/null; then
            "is_${service}_enabled" && return 0
        elif [[ ,$ENABLED_SERVICES, == *,$service,* ]]; then
            return 0
        fi
    done
    return 1
}
get_or_create_service() { record get_or_create_service "$@"; echo id-1; }
database_connection_url() {
    case "$DATABASE_TYPE" in
        mysql) echo "mysql+pymysql://root:pw@127.0.0.1/$1?$MYSQL_QUERY" ;;
        postgresql) echo "postgresql://root:pw@127.0.0.1/$1" ;;
    esac
}
apache_site_config_for() { echo "$APACHE_SITES/$1.conf"; }
get_python_exec_prefix() { echo "$FAKE_BIN"; }
'''

FAKE_COMMAND = '''#!/bin/bash
IFS=$'\\x1f'; printf '%s\\n' "$(basename "$0")$IFS$*" >> "$CALLS"
'''


class Stack:
    """A temporary devstack host, and the calls of the last phase run."""

    def __init__(self, root):
        self.root = root
        self.panko_dir = os.path.join(root, 'opt', 'panko')
        self.conf_dir = os.path.join(root, 'etc', 'panko')
        self.ceilometer_dir = os.path.join(root, 'etc', 'ceilometer')
        self.sites = os.path.join(root, 'sites')
        self.bin = os.path.join(root, 'bin')
        self.calls_file = os.path.join(root, 'calls')
        shutil.copytree(os.path.join(REPO, 'devstack'),
                        os.path.join(self.panko_dir, 'devstack'))
        etc = os.path.join(self.panko_dir, 'etc', 'panko')
        os.makedirs(etc)
        for name in ('api_paste.ini', 'event_definitions.yaml'):
            with open(os.path.join(etc, name), 'w') as f:
                f.write('# %s\n' % name)
        for directory in (self.ceilometer_dir, self.sites, self.bin):
            os.makedirs(directory)
        for command in ('panko-dbsync', 'panko-api', 'panko-dispatcher'):
            path = os.path.join(self.bin, command)
            with open(path, 'w') as f:
                f.write(FAKE_COMMAND)
            os.chmod(path, 0o755)

    def run(self, *phase, services='mysql,key,panko-api,panko-dispatcher',
            database='mysql', **settings):
        """Run plugin.sh for a phase; return (exit code, output)."""
        if os.path.exists(self.calls_file):
            os.remove(self.calls_file)
        env = {
            'PATH': os.environ['PATH'],
            'CALLS': self.calls_file,
            'FAKE_BIN': self.bin,
            'APACHE_SITES': self.sites,
            'APACHE_NAME': 'apache2',
            'DEST': os.path.join(self.root, 'opt'),
            'PANKO_CONF_DIR': self.conf_dir,
            'CEILOMETER_CONF_DIR': self.ceilometer_dir,
            'ENABLED_SERVICES': services,
            'DATABASE_TYPE': database,
            'SERVICE_HOST': '127.0.0.1',
            'SERVICE_PROTOCOL': 'http',
            'SERVICE_PASSWORD': 'secretpw',
            'SERVICE_TIMEOUT': '60',
            'STACK_USER': _user(),
            'REGION_NAME': 'RegionOne',
            'API_WORKERS': '2',
            'ENABLE_DEBUG_LOG_LEVEL': 'True',
            # What devstack's database_connection_url puts after the "?".
            'MYSQL_QUERY': 'charset=utf8',
        }
        env.update(settings)
        script = ('set -e\n%s\nsource "$DEST/panko/devstack/settings"\n'
                  'source "$DEST/panko/devstack/plugin.sh" "$@"\n' % STUBS)
        process = subprocess.run(['bash', '-c', script, 'plugin', *phase],
                                 env=env, capture_output=True, text=True,
                                 timeout=30)
        return process.returncode, process.stdout + process.stderr

    def calls(self):
        if not os.path.exists(self.calls_file):
            return []
        with open(self.calls_file) as f:
            return [tuple(line.rstrip('\n').split(SEP)) for line in f]

    def called(self, name):
        return [call[1:] for call in self.calls() if call[0] == name]

    def ini(self, path=None):
        """{(section, key): value} that iniset wrote to ``path``."""
        path = path or os.path.join(self.conf_dir, 'panko.conf')
        return {(section, key): value
                for file, section, key, value in self.called('iniset')
                if file == path}

    def phase(self, *phase, **kwargs):
        code, output = self.run(*phase, **kwargs)
        assert code == 0, output
        return self


def _user():
    return pwd.getpwuid(os.getuid()).pw_name


@pytest.fixture
def stack(tmp_path):
    return Stack(str(tmp_path))


@pytest.mark.parametrize('backend, deploy, installs', [
    ('mysql', 'uwsgi', ['install_apache_uwsgi']),
    ('mongodb', 'mod_wsgi', ['install_apache_wsgi']),
    ('postgresql', 'simple', []),
])
def test_install(stack, backend, deploy, installs):
    stack.phase('stack', 'install', PANKO_BACKEND=backend,
                PANKO_DEPLOY=deploy, database=backend,
                services='%s,panko-api' % backend)
    names = [call[0] for call in stack.calls()]
    assert stack.called('setup_develop') == [(stack.panko_dir,)]
    assert [n for n in names if n.startswith('install_apache')] == installs


@pytest.mark.parametrize('backend, url', [
    ('mysql', 'mysql+pymysql://root:pw@127.0.0.1/panko?charset=utf8mb4'),
    ('postgresql', 'postgresql://root:pw@127.0.0.1/panko'),
    ('mongodb', 'mongodb://localhost:27017/panko'),
])
def test_post_config_storage(stack, backend, url):
    stack.phase('stack', 'post-config', PANKO_BACKEND=backend,
                database='postgresql' if backend == 'postgresql'
                else 'mysql',
                services='mysql,postgresql,panko-api,panko-dispatcher')
    ini = stack.ini()
    assert ini['database', 'connection'] == url
    assert ini['database', 'event_time_to_live'] == '-1'
    assert ini['api', 'auth_mode'] == 'keystone'
    assert ini['api', 'paste_config'] == os.path.join(stack.conf_dir,
                                                      'api_paste.ini')
    assert ini['dispatcher', 'workers'] == '1'
    assert ini['dispatcher', 'raw_notifications'] == 'False'
    assert ini['dispatcher', 'definitions_file'] == os.path.join(
        stack.conf_dir, 'event_definitions.yaml')
    assert ini['dispatcher', 'telemetry_secret'] == 'secretpw'
    assert ini['DEFAULT', 'debug'] == 'True'
    conf = os.path.join(stack.conf_dir, 'panko.conf')
    assert stack.called('configure_keystone_authtoken_middleware') == [
        (conf, 'panko')]
    assert stack.called('iniset_rpc_backend') == [('panko', conf)]
    for name in ('api_paste.ini', 'event_definitions.yaml'):
        assert os.path.exists(os.path.join(stack.conf_dir, name))


@pytest.mark.parametrize('query, expected', [
    ('charset=utf8&plugin=dbcounter', 'charset=utf8mb4&plugin=dbcounter'),
    ('charset=utf8mb3', 'charset=utf8mb4'),
    ('charset=utf8mb4', 'charset=utf8mb4'),
    ('plugin=x&charset=utf8', 'plugin=x&charset=utf8mb4'),
])
def test_post_config_mysql_connection_is_utf8mb4(stack, query, expected):
    stack.phase('stack', 'post-config', MYSQL_QUERY=query)
    assert stack.ini()['database', 'connection'] == (
        'mysql+pymysql://root:pw@127.0.0.1/panko?' + expected)


def test_post_config_raw_notifications(stack):
    stack.phase('stack', 'post-config', PANKO_RAW_NOTIFICATIONS='True',
                PANKO_DISPATCHER_WORKERS='3')
    ini = stack.ini()
    assert ini['dispatcher', 'raw_notifications'] == 'True'
    assert ini['dispatcher', 'workers'] == '3'


def test_post_config_uwsgi(stack):
    stack.phase('stack', 'post-config')
    assert stack.called('write_uwsgi_config') == [(
        os.path.join(stack.conf_dir, 'panko-api-uwsgi.ini'),
        'panko.wsgi.api:application', '/event', '', 'panko-api')]
    assert os.listdir(stack.sites) == []


def test_post_config_mod_wsgi_writes_the_vhost(stack):
    stack.phase('stack', 'post-config', PANKO_DEPLOY='mod_wsgi',
                PANKO_SERVICE_PORT='9977')
    with open(os.path.join(stack.sites, 'panko.conf')) as f:
        site = f.read()
    assert 'Listen 9977' in site
    assert '<VirtualHost *:9977>' in site
    script = os.path.join(stack.panko_dir, 'panko', 'wsgi', 'api.py')
    assert 'WSGIScriptAlias / %s' % script in site
    assert 'processes=2' in site
    assert 'user=%s' % _user() in site
    assert '%PORT%' not in site and '%WSGI_DIR%' not in site
    (daemon,) = [line for line in site.splitlines()
                 if 'WSGIDaemonProcess' in line]
    assert 'python-home' not in daemon
    assert stack.called('write_uwsgi_config') == []


def test_post_config_mod_wsgi_uses_devstack_virtualenv(stack):
    stack.phase('stack', 'post-config', PANKO_DEPLOY='mod_wsgi',
                GLOBAL_VENV='True', DEVSTACK_VENV='/opt/stack/data/venv')
    with open(os.path.join(stack.sites, 'panko.conf')) as f:
        (daemon,) = [line for line in f if 'WSGIDaemonProcess' in line]
    assert daemon.rstrip().endswith(' python-home=/opt/stack/data/venv')


def test_post_config_publishes_ceilometer_events_to_the_dispatcher(stack):
    stack.phase('stack', 'post-config',
                services='mysql,ceilometer,panko-api,panko-dispatcher')
    pipeline = os.path.join(stack.ceilometer_dir, 'event_pipeline.yaml')
    with open(pipeline) as f:
        assert '- notifier://?topic=event\n' in f.read()
    ceilometer = stack.ini(os.path.join(stack.ceilometer_dir,
                                        'ceilometer.conf'))
    assert ceilometer['DEFAULT', 'event_pipeline_cfg_file'] == pipeline
    assert ceilometer['publisher', 'telemetry_secret'] == 'secretpw'


def test_post_config_publishes_directly_without_dispatcher(stack):
    stack.phase('stack', 'post-config',
                services='mysql,ceilometer,panko-api')
    with open(os.path.join(stack.ceilometer_dir,
                           'event_pipeline.yaml')) as f:
        assert '- panko://\n' in f.read()


def test_post_config_without_ceilometer_leaves_it_alone(stack):
    stack.phase('stack', 'post-config')
    assert os.listdir(stack.ceilometer_dir) == []


@pytest.mark.parametrize('deploy, url, api_command', [
    ('uwsgi', 'http://127.0.0.1/event', '--ini '),
    ('simple', 'http://127.0.0.1:8977', 'panko-api --port 8977 '),
    ('mod_wsgi', 'http://127.0.0.1:8977', None),
])
def test_extra(stack, deploy, url, api_command):
    stack.phase('stack', 'extra', PANKO_DEPLOY=deploy,
                services='mysql,keystone,panko-api,panko-dispatcher')
    conf = os.path.join(stack.conf_dir, 'panko.conf')
    assert stack.called('create_service_user') == [('panko', 'admin')]
    assert stack.called('get_or_create_service') == [
        ('panko', 'event', 'OpenStack Event Service')]
    assert stack.called('get_or_create_endpoint') == [
        ('event', 'RegionOne', url)]
    assert stack.called('recreate_database') == [('panko',)]
    assert stack.called('wait_for_service') == [('60', url)]
    processes = dict(stack.called('run_process'))
    assert processes['panko-dispatcher'] == (
        '%s/panko-dispatcher --config-file %s' % (stack.bin, conf))
    if api_command:
        assert api_command in processes['panko-api']
    else:
        assert 'panko-api' not in processes
        assert stack.called('enable_apache_site') == [('panko',)]
    names = [call[0] for call in stack.calls()]
    assert names.index('panko-dbsync') < names.index('wait_for_service')
    assert stack.called('panko-dbsync') == [('--config-file', conf)]


def test_extra_mongodb_creates_no_sql_database(stack):
    stack.phase('stack', 'extra', PANKO_BACKEND='mongodb',
                services='keystone,panko-api')
    assert stack.called('recreate_database') == []
    assert len(stack.called('panko-dbsync')) == 1


def test_unstack_uwsgi(stack):
    stack.phase('unstack')
    assert stack.called('stop_process') == [('panko-api',),
                                            ('panko-dispatcher',)]
    assert stack.called('remove_uwsgi_config') == [
        (os.path.join(stack.conf_dir, 'panko-api-uwsgi.ini'), 'panko-api')]


def test_unstack_mod_wsgi_removes_the_site(stack):
    stack.phase('stack', 'post-config', PANKO_DEPLOY='mod_wsgi')
    stack.phase('unstack', PANKO_DEPLOY='mod_wsgi')
    assert stack.called('disable_apache_site') == [('panko',)]
    assert os.listdir(stack.sites) == []
    assert len(stack.called('stop_process')) == 2


def test_clean_removes_the_configuration(stack):
    stack.phase('stack', 'post-config')
    assert os.path.isdir(stack.conf_dir)
    stack.phase('clean')
    assert not os.path.exists(stack.conf_dir)


@pytest.mark.parametrize('settings, message', [
    ({'PANKO_BACKEND': 'sqlite'}, "not 'sqlite'"),
    ({'PANKO_DEPLOY': 'gunicorn'}, "not 'gunicorn'"),
    ({'PANKO_BACKEND': 'postgresql'}, "needs devstack's postgresql"),
])
def test_bad_settings_stop_the_stack(stack, settings, message):
    code, output = stack.run('stack', 'install', **settings)
    assert code != 0
    (die,) = stack.called('die')
    assert message in ' '.join(die)


def test_settings_enable_both_services(stack):
    stack.phase('stack', 'install')
    assert stack.called('enable_service') == [('panko-api',
                                               'panko-dispatcher')]


def test_does_nothing_when_no_panko_service_is_enabled(stack):
    stack.phase('stack', 'install', services='mysql,keystone')
    assert [call[0] for call in stack.calls()] == ['enable_service']
