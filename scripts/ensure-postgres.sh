#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries exist on this machine (the app and tests start their own
# throwaway cluster from them). Skipped when an explicit connection string points elsewhere.
set -euo pipefail

if [[ -n "${TICKETS_TEST_CONNECTION_STRING:-}" || -n "${ConnectionStrings__Tickets:-}" ]]; then
  exit 0
fi
if [[ -n "${TICKETS_PG_BIN:-}" && -x "${TICKETS_PG_BIN}/initdb" ]] || compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null; then
  exit 0
fi

echo "PostgreSQL server binaries not found; installing them with apt-get." >&2
SUDO=""
if [[ "$(id -u)" != "0" ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Only the binaries are needed; no cluster is created or started by this script.
$SUDO apt-get install -y -qq postgresql postgresql-contrib > /dev/null
