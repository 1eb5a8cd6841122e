#!/usr/bin/env bash
# The system packages the local runtime and the tests need, from Debian's archive: installed when
# run as root (their daemons kept from starting while they install), otherwise named in the one
# command that installs them. `npm start` and `npm test` run this first; so does CI.
set -euo pipefail

missing=()
# DynamoDB Local needs Java 17 or newer.
java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])' || missing+=(default-jre-headless)
# the host documents are checked with shellcheck
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
# the web servers and PHP-FPM whose configs the tests check and whose daemons serve local sites,
# with PHP's MariaDB/MySQL and PostgreSQL drivers
command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
command -v apache2ctl >/dev/null 2>&1 || missing+=(apache2)
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
command -v php-fpm8.2 >/dev/null 2>&1 || missing+=(php8.2-fpm php8.2-cli)
[ -e /etc/php/8.2/mods-available/mysqli.ini ] || missing+=(php8.2-mysql)
[ -e /etc/php/8.2/mods-available/pgsql.ini ] || missing+=(php8.2-pgsql)
# the database engines and Redis that local hosts run for servers whose stack names them
command -v mariadbd >/dev/null 2>&1 || missing+=(mariadb-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# a real SFTP server for backups to customers' SFTP storage (the tests start their own sshd)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
# Let's Encrypt's ACME test server, which issues the sites' certificates locally
command -v pebble >/dev/null 2>&1 || missing+=(pebble)

[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages. Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

# their packages must not start daemons while they install: a policy-rc.d that says no, made
# only for the install if there is none
policy_made=no
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
  policy_made=yes
fi
trap 'if [ "$policy_made" = yes ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
