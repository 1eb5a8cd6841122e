#!/bin/bash
# vip-host on a local sandboxed host: what a real host does with apt, systemctl and useradd.
# Package installs and most services are recorded. The web server and PHP-FPM run for real
# when the agent runs the host's commands in its mount namespace (VIP_SANDBOXED=1, see
# sandbox-enter.sh) and this machine has them (Debian's nginx, apache2, caddy, php-fpm):
# "installing" one lays down the package's own default files, enabling or reloading it starts
# or reloads the real daemon (nginx, apache2, caddy, php-fpm), and validating runs its real
# validator.
set -euo pipefail
root="${VIP_HOST_ROOT:?VIP_HOST_ROOT is not set}"
state="$root/var/lib/vip"
mkdir -p "$root/var/log" "$state"
printf '%s %s\n' "$(date -u +%FT%TZ)" "$*" >>"$root/var/log/vip-host.log"
remember() { grep -qxF "$2" "$1" 2>/dev/null || printf '%s\n' "$2" >>"$1"; }
forget() {
  [ -f "$1" ] || return 0
  local rest
  rest="$(grep -vxF "$2" "$1" || true)"
  printf '%s\n' "$rest" | sed '/^$/d' >"$1"
}
sandboxed() { [ "${VIP_SANDBOXED:-}" = 1 ]; }

# The PHP-FPM binary of a version: the machine's own if it has that version, else Debian's
# (a local host runs every version's pools on the one PHP this machine has).
php_fpm_binary() {
  if command -v "php-fpm$1" >/dev/null 2>&1; then
    echo "php-fpm$1"
  else
    compgen -c php-fpm | grep -E '^php-fpm[0-9]' | sort -V | tail -n 1
  fi
}

# Lays down a package's default configuration, as installing the package would.
lay_down() {
  local package="$1" version
  case "$package" in
    nginx | nginx-*)
      if [ ! -f /etc/nginx/nginx.conf ] && [ -f "$VIP_PACKAGE_FILES/nginx/nginx.conf" ]; then
        cp -a "$VIP_PACKAGE_FILES/nginx/." /etc/nginx/
        rm -f /etc/nginx/sites-enabled/default
      fi
      ;;
    apache2)
      if [ ! -f /etc/apache2/apache2.conf ] && [ -f "$VIP_PACKAGE_FILES/apache2/apache2.conf" ]; then
        cp -a "$VIP_PACKAGE_FILES/apache2/." /etc/apache2/
        rm -f /etc/apache2/sites-enabled/000-default.conf
        for module in proxy proxy_fcgi proxy_http rewrite headers; do
          for file in "/etc/apache2/mods-available/$module".{load,conf}; do
            if [ -f "$file" ]; then ln -sf "$file" /etc/apache2/mods-enabled/; fi
          done
        done
      fi
      ;;
    caddy)
      mkdir -p /etc/caddy/sites
      ;;
    php*-fpm)
      version="${package#php}"
      version="${version%-fpm}"
      if [ ! -f "/etc/php/$version/fpm/php-fpm.conf" ]; then
        local from
        from="$(find "$VIP_PACKAGE_FILES/php" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort -V | tail -n 1)"
        if [ -n "$from" ] && [ -f "$from/fpm/php-fpm.conf" ]; then
          mkdir -p "/etc/php/$version"
          cp -a "$from/fpm" "/etc/php/$version/"
          sed -i "s|php/$(basename "$from")|php/$version|g; s|php$(basename "$from")-fpm|php$version-fpm|g" \
            "/etc/php/$version/fpm/php-fpm.conf" "/etc/php/$version/fpm/pool.d/www.conf"
        fi
      fi
      ;;
  esac
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# poll CHECK ARGS...: runs the check every 50 ms until it holds, at most POLL_TRIES times (100: 5 s)
poll() {
  local tries=0
  until "$@"; do
    tries=$((tries + 1))
    if [ "$tries" -ge "${POLL_TRIES:-100}" ]; then return 1; fi
    sleep 0.05
  done
}

# pools_listen VERSION: every pool of a PHP-FPM version has its socket
pools_listen() {
  local socket
  while read -r socket; do
    if [ ! -S "$socket" ]; then return 1; fi
  done < <(sed -n 's/^listen *= *//p' /etc/php/"$1"/fpm/pool.d/*.conf 2>/dev/null)
}

# await_pools VERSION: waits until every pool of a PHP-FPM version listens on its socket (a
# reload re-executes the master, which opens the sockets of new pools once it is back)
await_pools() {
  POLL_TRIES=600 poll pools_listen "$1" || {
    echo "php$1-fpm did not open its pools' sockets within 30 s" >&2
    return 1
  }
}

# nginx_reloaded MASTER BEFORE: a worker started after the signal runs, and every worker from
# BEFORE is gone or shutting down (it no longer accepts connections)
nginx_reloaded() {
  local worker fresh=no
  for worker in $(pgrep -P "$1"); do
    if [[ "$2" != *" $worker "* ]]; then
      fresh=yes
    elif ! tr '\0' ' ' <"/proc/$worker/cmdline" 2>/dev/null | grep -q 'shutting down'; then
      return 1
    fi
  done
  [ "$fresh" = yes ]
}

# reload_nginx: as systemctl reload does, and then waits until only workers started after the
# signal accept connections (a reload is asynchronous: until then old workers answer with the
# old config)
reload_nginx() {
  local master before
  master="$(cat /run/nginx.pid)"
  before=" $(pgrep -P "$master" | tr '\n' ' ')"
  kill -HUP "$master"
  # a loaded machine may take a while: up to 30 s, as the site document waits
  POLL_TRIES=600 poll nginx_reloaded "$master" "$before" || {
    echo "nginx did not start new workers within 30 s" >&2
    return 1
  }
}

# A site's own unit (a Node.js app, a daemon: vip-*) run as systemd would run it from its unit
# file: its User, WorkingDirectory, Environment and ExecStart, output to its log, in its own
# process group. The machine's Node.js stands for every major a server installs.
# (units are files of the host's root: /etc/systemd is the machine's, even in the sandbox)
unit_value() { sed -n "s/^$2=//p" "$root/etc/systemd/system/$1.service" | head -n 1; }
start_site_unit() {
  local unit="$1" file="$root/etc/systemd/system/$1.service" user dir exec log pidfile node_dir env_file
  [ -f "$file" ] || return 0
  pidfile="/run/vip-units/$unit.pid"
  mkdir -p /run/vip-units
  user="$(unit_value "$unit" User)"
  dir="$(unit_value "$unit" WorkingDirectory)"
  # the renderers' ExecStart is always `/bin/bash -c "<command>"` in systemd's quoting
  exec="$(unit_value "$unit" ExecStart | sed -n 's|^/bin/bash -c "\(.*\)"$|\1|p' |
    sed -e 's/\\"/"/g' -e 's/\\\\/\\/g' -e 's/%%/%/g' -e 's/\$\$/$/g')"
  log="$(sed -n 's/^StandardOutput=append://p' "$file" | head -n 1)"
  node_dir="$(dirname "$(command -v node)")"
  local environment=()
  while IFS= read -r line; do
    line="${line#Environment=}"
    line="${line#\"}"
    line="${line%\"}"
    case "$line" in PATH=*) line="PATH=${line#PATH=}:$node_dir" ;; esac
    environment+=("$line")
  done < <(grep '^Environment=' "$file")
  env_file="$(sed -n 's/^EnvironmentFile=-//p' "$file" | head -n 1)"
  # shellcheck disable=SC2016 # the inner shell expands them
  setsid runuser -u "$user" -- env -i HOME="/home/$user" "${environment[@]}" \
    bash -c 'set -a; if [ -f "$3" ]; then . "$3"; fi; set +a; cd "$1" && exec bash -c "$2"' \
    vip-unit "$dir" "$exec" "$env_file" >>"${log:-/dev/null}" 2>&1 </dev/null &
  echo "$!" >"$pidfile"
}
stop_site_unit() {
  local pidfile="/run/vip-units/$1.pid"
  if [ -f "$pidfile" ] && running "$pidfile"; then
    kill -TERM -- "-$(cat "$pidfile")" 2>/dev/null || kill -TERM "$(cat "$pidfile")" || true
    for _ in $(seq 50); do running "$pidfile" || break; sleep 0.1; done
    # as systemd does once TimeoutStopSec has passed: what did not stop is killed, so a restart
    # never leaves the old process answering beside the new one
    if running "$pidfile"; then
      kill -KILL -- "-$(cat "$pidfile")" 2>/dev/null || kill -KILL "$(cat "$pidfile")" || true
      for _ in $(seq 50); do running "$pidfile" || break; sleep 0.1; done
    fi
  fi
  rm -f "$pidfile"
}

# The host's database engine, Debian's MariaDB or PostgreSQL run for real (VIP_DATABASE_ENGINES):
# its data under the host's root, its socket where the engine's clients look for it (/run is the
# host's own), no TCP listener (PostgreSQL's socket is named by the host's port); as root for
# MariaDB (root signs in over the socket), as postgres for PostgreSQL (which refuses root).
pg_bin() { find /usr/lib/postgresql -maxdepth 3 -name "$1" -path '*/bin/*' 2>/dev/null | sort -V | tail -n 1; }
start_mariadb() {
  command -v mariadbd >/dev/null 2>&1 || return 0
  local data="$root/var/lib/mysql"
  running /run/mysqld/mysqld.pid && return 0
  mkdir -p /run/mysqld "$root/tmp/mysql"
  # a temporary folder of its own: a starting mariadbd clears its tmpdir of others' temporary tables
  export TMPDIR="$root/tmp/mysql"
  if [ ! -d "$data/mysql" ]; then
    if ! mariadb-install-db --no-defaults --user=root --datadir="$data" --auth-root-authentication-method=socket \
      --skip-test-db >"$root/var/log/mariadb-install.log" 2>&1; then
      echo "mariadb-install-db failed:" >&2
      grep -i -m 5 "error" "$root/var/log/mariadb-install.log" >&2 || head -n 5 "$root/var/log/mariadb-install.log" >&2
      return 1
    fi
  fi
  mariadbd --no-defaults --user=root --datadir="$data" --socket=/run/mysqld/mysqld.sock --pid-file=/run/mysqld/mysqld.pid \
    --skip-networking --log-error="$root/var/log/mariadb.log" \
    --skip-log-bin --innodb-buffer-pool-size=16M --performance-schema=OFF >/dev/null 2>&1 </dev/null &
  # its first start (a new data directory) takes seconds on a busy machine
  for _ in $(seq 300); do
    if [ -S /run/mysqld/mysqld.sock ]; then return 0; fi
    sleep 0.1
  done
  echo "mariadb did not open its socket within 30 s" >&2
  return 1
}
start_postgresql() {
  # its data through the sandbox's own /var/lib/postgresql (postgres cannot reach the host's root)
  local initdb pg_ctl data=/var/lib/postgresql/data
  initdb="$(pg_bin initdb)"
  pg_ctl="$(pg_bin pg_ctl)"
  [ -n "$initdb" ] && id postgres >/dev/null 2>&1 || return 0
  mkdir -p /run/postgresql "$(dirname "$data")"
  chown postgres:postgres /run/postgresql "$(dirname "$data")"
  if [ ! -f "$data/PG_VERSION" ]; then
    runuser -u postgres -- "$initdb" -D "$data" --auth-local=peer --auth-host=scram-sha-256 -E UTF8 >/dev/null
    # as Debian's cluster: postgres by peer, every other role by its password (over the socket too,
    # as the host is reached socket-only)
    printf 'local all postgres peer\nlocal all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n' \
      >"$data/pg_hba.conf"
  fi
  runuser -u postgres -- "$pg_ctl" -D "$data" status >/dev/null 2>&1 && return 0
  touch /var/log/postgresql.log
  chown postgres:postgres /var/log/postgresql.log
  runuser -u postgres -- "$pg_ctl" -D "$data" -l /var/log/postgresql.log -w \
    -o "-k /run/postgresql -h '' -p ${VIP_DATABASE_PORT:-5432}" start >/dev/null
}
stop_database() {
  case "$1" in
    mariadb | mysql)
      if running /run/mysqld/mysqld.pid; then
        kill -TERM "$(cat /run/mysqld/mysqld.pid)" || true
        for _ in $(seq 100); do running /run/mysqld/mysqld.pid || break; sleep 0.1; done
      fi
      ;;
    postgresql)
      local pg_ctl data=/var/lib/postgresql/data
      pg_ctl="$(pg_bin pg_ctl)"
      if [ -n "$pg_ctl" ] && [ -f "$data/PG_VERSION" ]; then
        runuser -u postgres -- "$pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
      fi
      ;;
  esac
}

# start_or_reload UNIT: the real daemon, where this machine has it; otherwise nothing runs.
start_or_reload() {
  local unit="$1" version binary
  case "$unit" in
    vip-*)
      stop_site_unit "$unit"
      start_site_unit "$unit"
      ;;
    mariadb | mysql) if [ -n "${VIP_DATABASE_ENGINES:-}" ]; then start_mariadb; fi ;;
    postgresql) if [ -n "${VIP_DATABASE_ENGINES:-}" ]; then start_postgresql; fi ;;
    nginx)
      command -v nginx >/dev/null 2>&1 && [ -f /etc/nginx/nginx.conf ] || return 0
      if running /run/nginx.pid; then reload_nginx; else nginx; fi
      ;;
    apache2)
      command -v apache2ctl >/dev/null 2>&1 && [ -f /etc/apache2/apache2.conf ] || return 0
      mkdir -p /var/log/apache2
      if running /run/apache2/apache2.pid; then apache2ctl graceful; else apache2ctl start; fi
      ;;
    caddy)
      command -v caddy >/dev/null 2>&1 && [ -f /etc/caddy/Caddyfile ] || return 0
      mkdir -p /var/lib/caddy
      # caddy reload answers once the new configuration serves
      if running /run/caddy.pid; then
        caddy reload --config /etc/caddy/Caddyfile --adapter caddyfile --address unix//var/lib/caddy/admin.sock
      else
        HOME=/var/lib/caddy caddy start --config /etc/caddy/Caddyfile --adapter caddyfile \
          --pidfile /run/caddy.pid >/dev/null 2>&1
      fi
      ;;
    php*-fpm)
      version="${unit#php}"
      version="${version%-fpm}"
      binary="$(php_fpm_binary "$version")"
      [ -n "$binary" ] && [ -f "/etc/php/$version/fpm/php-fpm.conf" ] || return 0
      if running "/run/php/php$version-fpm.pid"; then
        kill -USR2 "$(cat "/run/php/php$version-fpm.pid")"
        await_pools "$version"
      else
        "$binary" --fpm-config "/etc/php/$version/fpm/php-fpm.conf"
        await_pools "$version"
      fi
      ;;
  esac
}

stop_daemon() {
  local unit="$1" pidfile=""
  case "$unit" in
    vip-*) stop_site_unit "$unit" ;;
    mariadb | mysql | postgresql) stop_database "$unit" ;;
    nginx) pidfile=/run/nginx.pid ;;
    apache2) pidfile=/run/apache2/apache2.pid ;;
    caddy) pidfile=/run/caddy.pid ;;
    php*-fpm)
      pidfile="${unit%-fpm}"
      pidfile="/run/php/${pidfile}-fpm.pid"
      ;;
  esac
  if [ -n "$pidfile" ] && running "$pidfile"; then kill -TERM "$(cat "$pidfile")" || true; fi
}

# have TOOL FILE: the machine has the tool and the host has its configuration; else it is recorded
# that nothing could check the unit here.
have() {
  if command -v "$1" >/dev/null 2>&1 && [ -f "$2" ]; then return 0; fi
  remember "$state/validations" "$unit (not checked: $1 is not on this machine)"
  return 1
}

# validate UNIT: the web server's or PHP-FPM's own check of its whole configuration.
validate() {
  unit="$1"
  local version binary
  case "$unit" in
    nginx) if have nginx /etc/nginx/nginx.conf; then nginx -t -q; fi ;;
    apache2) if have apache2ctl /etc/apache2/apache2.conf; then apache2ctl -t; fi ;;
    caddy) if have caddy /etc/caddy/Caddyfile; then caddy validate --config /etc/caddy/Caddyfile --adapter caddyfile; fi ;;
    lshttpd) if have /usr/local/lsws/bin/openlitespeed /usr/local/lsws/conf/httpd_config.conf; then /usr/local/lsws/bin/openlitespeed -t; fi ;;
    php*-fpm)
      version="${unit#php}"
      version="${version%-fpm}"
      binary="$(php_fpm_binary "$version")"
      if have "${binary:-php-fpm}" "/etc/php/$version/fpm/php-fpm.conf"; then
        "$binary" -t --fpm-config "/etc/php/$version/fpm/php-fpm.conf"
      fi
      ;;
    *)
      echo "vip-host: nothing validates $unit" >&2
      return 2
      ;;
  esac
}

action="${1:-}"
shift || true
case "$action" in
  install)
    for package in "$@"; do
      if [[ " ${VIP_UNAVAILABLE_PACKAGES:-} " == *" $package "* ]]; then
        echo "E: Unable to locate package $package" >&2
        exit 100
      fi
    done
    for package in "$@"; do
      remember "$state/packages" "$package"
      if sandboxed; then lay_down "$package"; fi
    done
    ;;
  refresh) : ;;
  repository) remember "$state/repositories" "$1" ;;
  install-node) remember "$state/runtimes" "node-$1" ;;
  enable)
    remember "$state/services" "$1"
    if sandboxed; then start_or_reload "$1"; fi
    ;;
  is-active)
    # a unit that starts and then dies (VIP_CRASHING_SERVICES) is enabled but not active
    if [[ " ${VIP_CRASHING_SERVICES:-} " == *" $1 "* ]]; then exit 3; fi
    grep -qxF "$1" "$state/services" 2>/dev/null
    ;;
  probe-http)
    # a sandbox serves nothing: the web server answers once it has been enabled
    # shellcheck source=/dev/null
    . "$root/etc/vip/server.env"
    if [[ " ${VIP_CRASHING_SERVICES:-} " == *" $WEB_SERVICE "* ]]; then exit 7; fi
    grep -qxF "$WEB_SERVICE" "$state/services" 2>/dev/null
    ;;
  reload)
    remember "$state/reloads" "$1"
    # a site's unit is enabled and (re)started, as the site document does with systemctl
    case "$1" in vip-*) remember "$state/services" "$1" ;; esac
    if sandboxed && grep -qxF "$1" "$state/services" 2>/dev/null; then start_or_reload "$1"; fi
    ;;
  stop)
    # as systemctl disable --now: the unit no longer runs nor starts at boot
    forget "$state/services" "$1"
    if sandboxed; then stop_daemon "$1"; fi
    ;;
  restart)
    printf '%s %s\n' "$(date -u +%FT%TZ)" "$1" >>"$state/restarts"
    if sandboxed; then
      stop_daemon "$1"
      sleep 0.2
      start_or_reload "$1"
    fi
    ;;
  validate)
    if ! sandboxed; then
      remember "$state/validations" "$1 (not run: no sandbox)"
      exit 0
    fi
    validate "$1"
    ;;
  add-user)
    # add-user USER HOME: a system user with its own group and HOME, no shell
    user="$1" home="$2"
    remember "$state/users" "$user"
    if sandboxed && ! getent passwd "$user" >/dev/null; then
      uid=$(awk -F: 'BEGIN { max = 19999 } $3 > max && $3 < 60000 { max = $3 } END { print max + 1 }' /etc/passwd /etc/group)
      printf '%s:x:%s:%s::%s:/usr/sbin/nologin\n' "$user" "$uid" "$uid" "$home" >>/etc/passwd
      printf '%s:x:%s:\n' "$user" "$uid" >>/etc/group
    fi
    ;;
  enable-apache-modules)
    # as a2enmod: each module's .load and .conf linked into mods-enabled (ssl brings socache_shmcb)
    remember "$state/apache-modules" "$*"
    if sandboxed && [ -d /etc/apache2/mods-available ]; then
      for module in "$@"; do
        for needed in $(sed -n 's/^# Depends: //p' "/etc/apache2/mods-available/$module.load" 2>/dev/null) "$module"; do
          for file in "/etc/apache2/mods-available/$needed".{load,conf}; do
            if [ -f "$file" ]; then ln -sf "$file" /etc/apache2/mods-enabled/; fi
          done
        done
      done
    fi
    ;;
  join-group)
    # join-group USER GROUP: recorded (the sandbox's daemons run as root)
    remember "$state/groups" "$1 $2"
    ;;
  remove-user)
    forget "$state/users" "$1"
    if sandboxed; then
      for file in /etc/passwd /etc/group; do
        rest="$(grep -v "^$1:" "$file" || true)"
        printf '%s\n' "$rest" >"$file"
      done
    fi
    ;;
  db-create)
    # a database server does not run in the sandbox: what would be created is recorded
    remember "$state/databases" "$1 $2 $3"
    ;;
  fetch-wordpress | composer-create-project)
    # downloads (wordpress.org, Packagist) are not reached from the sandbox: recorded
    remember "$state/apps" "$action $1"
    ;;
  wp-cli | artisan)
    # they need the app's code and its database: recorded, with any password left out
    printf '%s\n' "$action $(printf '%s ' "$@" | sed -E 's/(--admin_password=)[^ ]*/\1(hidden)/g')" >>"$state/apps"
    ;;
  boot)
    # the host started again: its enabled daemons start, as systemd starts enabled units
    if sandboxed && [ -f "$state/services" ]; then
      while read -r unit; do start_or_reload "$unit" || true; done <"$state/services"
    fi
    ;;
  shutdown)
    if sandboxed && [ -f "$state/services" ]; then
      while read -r unit; do stop_daemon "$unit"; done <"$state/services"
    fi
    ;;
  *)
    echo "vip-host: unknown action '$action'" >&2
    exit 2
    ;;
esac
