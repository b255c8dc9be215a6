#!/usr/bin/env bash
# The tests check /metrics with `promtool check metrics`; Debian ships promtool in its prometheus package.
# Installs it where we can (root with apt-get, as on our machines and CI); otherwise says what to install.
set -euo pipefail
command -v promtool >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing promtool (Debian's prometheus package) for the /metrics checks" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
else
  echo "promtool is missing: install it (Debian/Ubuntu: sudo apt-get install prometheus) and run again" >&2
  exit 1
fi
