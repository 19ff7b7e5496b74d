#!/usr/bin/env bash
# Makes sure Debian's chromium is on this machine: the docs page's browser test (DocsPageBrowserTests) drives it
# through Playwright, whose own browser download is not used. Skipped when TICKETS_TEST_CHROMIUM names a browser.
set -euo pipefail

if [[ -x "${TICKETS_TEST_CHROMIUM:-/usr/bin/chromium}" ]]; then
  exit 0
fi

echo "chromium not found; installing it with apt-get." >&2
SUDO=""
if [[ "$(id -u)" != "0" ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium > /dev/null
