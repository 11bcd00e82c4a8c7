#!/usr/bin/env bash
# Installs the Debian packages rcm needs to build and run, plus any package names given as arguments.
set -euo pipefail

packages=(libmicrohttpd-dev libsqlite3-dev libpq-dev libssl-dev libargon2-dev librabbitmq-dev pkg-config "$@")
missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
fi
