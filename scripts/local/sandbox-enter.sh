#!/bin/bash
# Runs a command inside a local host's sandbox: in a private mount namespace (`unshare -m`, as
# the agent starts it) the sandbox's folders are bound over the real paths a web server and
# PHP-FPM use, so that the host documents' files, the real daemons and their validators all
# see the host's own /etc/nginx, /etc/php, /home, /run and the host's own users and groups.
# Usage: sandbox-enter.sh ROOT COMMAND [ARGS...]
set -euo pipefail
root="${1:?sandbox root}"
shift
# The machine's own /etc stays readable beside the sandbox, where the host shim takes a
# package's default files from when it "installs" it.
packages="$(dirname "$root")/package-files"
mkdir -p "$packages"
mount --bind /etc "$packages"
export VIP_PACKAGE_FILES="$packages"
# What the host owns, bound over the machine's; each folder exists in the sandbox first.
for dir in etc/nginx etc/php etc/apache2 etc/caddy etc/vip home run var/www var/log var/lib/nginx var/lib/caddy var/lib/mysql var/lib/postgresql; do
  mkdir -p "$root/$dir" "/$dir"
  mount --bind "$root/$dir" "/$dir"
done
# The host's own users and groups: the machine's, plus each site's user, added by the host shim.
for file in passwd group; do
  [ -f "$root/etc/$file" ] || cp "/etc/$file" "$root/etc/$file"
  mount --bind "$root/etc/$file" "/etc/$file"
done
mkdir -p /run/php /run/lock /run/apache2 /var/log/nginx /var/log/apache2 /var/lib/nginx
exec "$@"
