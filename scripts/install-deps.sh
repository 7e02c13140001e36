#!/usr/bin/env bash
# Installs the Debian 12 packages SiteRelay needs to build, run and test, and nothing that is
# already there. Uses sudo when not root. Safe to run again.
set -euo pipefail

packages=(
    build-essential cmake ninja-build pkg-config
    qt6-base-dev qt6-base-dev-tools qt6-httpserver-dev qt6-websockets-dev libqt6sql6-sqlite
    libgl-dev
    sqlite3
    libqrencode-dev
    qt6-charts-dev
)
if [[ "${1:-}" == "--test" ]]; then
    # valgrind checks the server for invalid memory accesses under disconnecting clients;
    # util-linux brings setpriv/mount used by the storage-failure tests; poppler-utils (pdfinfo,
    # pdftotext) checks the rendered report PDFs; libxml2-utils (xmllint) validates exported ODM
    # against the CDISC XSD.
    packages+=(valgrind util-linux procps poppler-utils libxml2-utils)
    # The tablet page's browser test: Debian's chromium, driven by playwright-core from npm (the
    # test installs that itself). Node from another source (e.g. NodeSource) also does.
    packages+=(chromium)
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        packages+=(nodejs npm)
    fi
fi
if [[ "${1:-}" == "--bench" ]]; then
    packages+=(wrk procps)
    # The dashboard screenshot (docs/images/dashboard.png) is taken under a virtual X server.
    packages+=(xvfb xauth)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

echo "Installing missing Debian packages: ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
