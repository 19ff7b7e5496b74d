#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries exist on this machine (the app and tests start their own
# throwaway cluster from them), and PgBouncer's (the tests and the benchmark run a pass through it).
# Skipped when an explicit connection string points elsewhere.
set -euo pipefail

if [[ -n "${TICKETS_TEST_CONNECTION_STRING:-}" || -n "${ConnectionStrings__Tickets:-}" ]]; then
  exit 0
fi
packages=()
if ! { [[ -n "${TICKETS_PG_BIN:-}" && -x "${TICKETS_PG_BIN}/initdb" ]] || compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null; }; then
  packages+=(postgresql postgresql-contrib)
fi
if [[ ! -x "${TICKETS_PGBOUNCER:-/usr/sbin/pgbouncer}" ]]; then
  packages+=(pgbouncer)
fi
if [[ ${#packages[@]} -eq 0 ]]; then
  exit 0
fi

echo "Not found: ${packages[*]}; installing with apt-get." >&2
SUDO=""
if [[ "$(id -u)" != "0" ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Only the binaries are needed: the test setup starts its own cluster and PgBouncer on ports of their own (the
# pgbouncer package's system service, where one starts, listens on 6432 and is not used).
$SUDO apt-get install -y -qq "${packages[@]}" > /dev/null
