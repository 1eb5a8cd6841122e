#!/bin/bash
# vip-host on a local sandboxed host: records package installs and service changes instead
# of calling apt and systemctl, so everything else a host document does runs for real.
set -euo pipefail
root="${VIP_HOST_ROOT:?VIP_HOST_ROOT is not set}"
state="$root/var/lib/vip"
mkdir -p "$root/var/log" "$state"
printf '%s %s\n' "$(date -u +%FT%TZ)" "$*" >>"$root/var/log/vip-host.log"
remember() { grep -qxF "$2" "$1" 2>/dev/null || printf '%s\n' "$2" >>"$1"; }
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
    for package in "$@"; do remember "$state/packages" "$package"; done
    ;;
  refresh) : ;;
  repository) remember "$state/repositories" "$1" ;;
  install-node) remember "$state/runtimes" "node-$1" ;;
  enable) remember "$state/services" "$1" ;;
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
  reload) remember "$state/reloads" "$1" ;;
  restart) printf '%s %s\n' "$(date -u +%FT%TZ)" "$1" >>"$state/restarts" ;;
  *)
    echo "vip-host: unknown action '$action'" >&2
    exit 2
    ;;
esac
