#!/bin/bash
# devstack plugin for panko: event storage and the event API.
#
# Enable it in local.conf (after ceilometer's, when you use both):
#
#   [[local|localrc]]
#   enable_plugin panko <panko git url>
#
# Variables are documented in devstack/settings and devstack/README.rst.

# devstack calls is_service_enabled panko, which asks this function.
function is_panko_enabled {
    [[ ,${ENABLED_SERVICES}, =~ ,panko- ]]
}

function panko_service_url {
    if [[ "$PANKO_DEPLOY" == "uwsgi" ]]; then
        echo "$PANKO_SERVICE_PROTOCOL://$PANKO_SERVICE_HOST/event"
    else
        echo "$PANKO_SERVICE_PROTOCOL://$PANKO_SERVICE_HOST:$PANKO_SERVICE_PORT"
    fi
}

# Stop early, with a clear message, on settings the plugin cannot honour.
function _panko_check_settings {
    case "$PANKO_BACKEND" in
        mysql|postgresql)
            if ! is_service_enabled "$PANKO_BACKEND"; then
                die $LINENO "PANKO_BACKEND=$PANKO_BACKEND needs devstack's" \
                    "$PANKO_BACKEND service enabled"
            fi
            ;;
        mongodb) ;;
        *) die $LINENO "PANKO_BACKEND must be mysql, postgresql or" \
               "mongodb, not '$PANKO_BACKEND'" ;;
    esac
    case "$PANKO_DEPLOY" in
        uwsgi|mod_wsgi|simple) ;;
        *) die $LINENO "PANKO_DEPLOY must be uwsgi, mod_wsgi or simple," \
               "not '$PANKO_DEPLOY'" ;;
    esac
}

function install_panko {
    setup_develop "$PANKO_DIR"
    case "$PANKO_DEPLOY" in
        uwsgi) install_apache_uwsgi ;;
        mod_wsgi) install_apache_wsgi ;;
    esac
}

function _panko_configure_storage {
    if [[ "$PANKO_BACKEND" == "mongodb" ]]; then
        iniset "$PANKO_CONF" database connection "$PANKO_MONGODB_URL"
    else
        # devstack asks MySQL for utf8, which holds three bytes a character
        # at most: panko needs utf8mb4 (and refuses to start without it).
        iniset "$PANKO_CONF" database connection \
            "$(database_connection_url panko \
               | sed -E 's/([?&]charset=)utf8(mb3)?(&|$)/\1utf8mb4\3/')"
    fi
    iniset "$PANKO_CONF" database event_time_to_live \
        "$PANKO_EVENT_TIME_TO_LIVE"
}

function _panko_configure_mod_wsgi {
    local site
    site=$(apache_site_config_for panko)
    local wsgi_script=$PANKO_DIR/panko/wsgi/api.py
    # devstack installs every project in one virtualenv by default.
    local python_home=""
    if [[ "${GLOBAL_VENV:-False}" == "True" ]]; then
        python_home="python-home=$DEVSTACK_VENV"
    fi
    sed -e "
        s|%PORT%|$PANKO_SERVICE_PORT|g;
        s|%USER%|$STACK_USER|g;
        s|%GROUP%|$(id -gn "$STACK_USER")|g;
        s|%WORKERS%|$API_WORKERS|g;
        s|%WSGI_SCRIPT%|$wsgi_script|g;
        s|%WSGI_DIR%|$(dirname "$wsgi_script")|g;
        s|%APACHE_LOG_DIR%|/var/log/$APACHE_NAME|g;
        s|%PYTHON_HOME%|$python_home|g
    " "$PANKO_DIR/devstack/files/apache-panko.template" \
        | sudo tee "$site" > /dev/null
}

function _panko_configure_api {
    iniset "$PANKO_CONF" api paste_config "$PANKO_CONF_DIR/api_paste.ini"
    iniset "$PANKO_CONF" api auth_mode keystone
    configure_keystone_authtoken_middleware "$PANKO_CONF" panko
    case "$PANKO_DEPLOY" in
        uwsgi)
            write_uwsgi_config "$PANKO_UWSGI_CONF" "$PANKO_UWSGI" "/event" \
                "" "panko-api"
            ;;
        mod_wsgi) _panko_configure_mod_wsgi ;;
    esac
}

# Make Ceilometer's event pipeline publish every event to panko: through
# the message bus to panko-dispatcher when it runs, or else straight into
# the database with the panko:// publisher.
function _panko_configure_ceilometer {
    local conf_dir=${CEILOMETER_CONF_DIR:-/etc/ceilometer}
    local conf=${CEILOMETER_CONF:-$conf_dir/ceilometer.conf}
    local publisher="panko://"
    if is_service_enabled panko-dispatcher; then
        publisher="notifier://?topic=event"
    fi
    sed -e "s|%PUBLISHER%|$publisher|g" \
        "$PANKO_DIR/devstack/files/event_pipeline.yaml" \
        | sudo tee "$conf_dir/event_pipeline.yaml" > /dev/null
    iniset "$conf" DEFAULT event_pipeline_cfg_file \
        "$conf_dir/event_pipeline.yaml"
    iniset "$conf" publisher telemetry_secret "$PANKO_TELEMETRY_SECRET"
}

function configure_panko {
    sudo install -d -o "$STACK_USER" -m 755 "$PANKO_CONF_DIR"
    cp "$PANKO_DIR/etc/panko/api_paste.ini" \
        "$PANKO_DIR/etc/panko/event_definitions.yaml" "$PANKO_CONF_DIR/"
    iniset "$PANKO_CONF" DEFAULT debug "$ENABLE_DEBUG_LOG_LEVEL"
    iniset_rpc_backend panko "$PANKO_CONF"
    _panko_configure_storage
    iniset "$PANKO_CONF" dispatcher workers "$PANKO_DISPATCHER_WORKERS"
    iniset "$PANKO_CONF" dispatcher raw_notifications \
        "$PANKO_RAW_NOTIFICATIONS"
    iniset "$PANKO_CONF" dispatcher definitions_file \
        "$PANKO_CONF_DIR/event_definitions.yaml"
    iniset "$PANKO_CONF" dispatcher telemetry_secret "$PANKO_TELEMETRY_SECRET"
    if is_service_enabled panko-api; then
        _panko_configure_api
    fi
    if is_service_enabled ceilometer; then
        _panko_configure_ceilometer
    fi
}

function _panko_create_accounts {
    create_service_user panko admin
    get_or_create_service panko event "OpenStack Event Service"
    get_or_create_endpoint event "$REGION_NAME" "$(panko_service_url)"
}

function init_panko {
    if is_service_enabled panko-api && is_service_enabled keystone; then
        _panko_create_accounts
    fi
    if [[ "$PANKO_BACKEND" != "mongodb" ]]; then
        recreate_database panko
    fi
    "$PANKO_BIN_DIR/panko-dbsync" --config-file "$PANKO_CONF"
}

function start_panko {
    case "$PANKO_DEPLOY" in
        uwsgi)
            run_process panko-api "$(command -v uwsgi) --procname-prefix panko --ini $PANKO_UWSGI_CONF"
            ;;
        mod_wsgi)
            if is_service_enabled panko-api; then
                enable_apache_site panko
                restart_apache_server
            fi
            ;;
        simple)
            run_process panko-api "$PANKO_BIN_DIR/panko-api --port $PANKO_SERVICE_PORT --config-file $PANKO_CONF"
            ;;
    esac
    if is_service_enabled panko-api; then
        echo "Waiting for panko-api to start..."
        if ! wait_for_service "$SERVICE_TIMEOUT" "$(panko_service_url)"; then
            die $LINENO "panko-api did not start"
        fi
    fi
    run_process panko-dispatcher "$PANKO_BIN_DIR/panko-dispatcher --config-file $PANKO_CONF"
}

# Stop the services and take the API off the web server.
function stop_panko {
    stop_process panko-api
    stop_process panko-dispatcher
    case "$PANKO_DEPLOY" in
        uwsgi) remove_uwsgi_config "$PANKO_UWSGI_CONF" "panko-api" ;;
        mod_wsgi)
            disable_apache_site panko
            sudo rm -f "$(apache_site_config_for panko)"
            restart_apache_server
            ;;
    esac
}

function cleanup_panko {
    sudo rm -rf "$PANKO_CONF_DIR"
}

PANKO_BIN_DIR=$(get_python_exec_prefix)

if is_service_enabled panko; then
    _panko_check_settings
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing panko"
        install_panko
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring panko"
        configure_panko
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Initializing and starting panko"
        init_panko
        start_panko
    fi
    if [[ "$1" == "unstack" ]]; then
        echo_summary "Stopping panko"
        stop_panko
    fi
    if [[ "$1" == "clean" ]]; then
        echo_summary "Cleaning panko"
        cleanup_panko
    fi
fi
