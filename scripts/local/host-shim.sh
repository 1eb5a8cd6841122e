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
  enable) remember "$state/services" "$1" ;;
  reload) remember "$state/reloads" "$1" ;;
  restart) printf '%s %s\n' "$(date -u +%FT%TZ)" "$1" >>"$state/restarts" ;;
  *)
    echo "vip-host: unknown action '$action'" >&2
    exit 2
    ;;
esac
