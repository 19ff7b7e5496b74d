#!/usr/bin/env bash
# The on-sale benchmark (see docs/benchmarks.md). Builds Release, starts its own PostgreSQL and server.
# Usage: scripts/bench.sh [--rounds 3] [--duration 4] [--warmup 10] [--connections 64,256] [--out bench.json] [--phases ...]
#        [--scale-out 1,2,4] [--wrk-tokens 20000] [--pin-servers 0] [--pin-postgres 1] [--pin-wrk 0] [--pgbouncer-pool 50]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-postgres.sh
# wrk, the lean load generator of the ceiling, scale-out and PgBouncer phases.
if ! command -v wrk > /dev/null; then
  echo "wrk not found; installing it with apt-get." >&2
  SUDO=""
  if [[ "$(id -u)" != "0" ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq wrk > /dev/null
fi
dotnet build Tickets.Server -c Release -nologo -v quiet
dotnet build Tickets.Functions -c Release -nologo -v quiet
# The start-up phase also starts the Functions app as it is deployed (dotnet publish: ReadyToRun, linux-x64), and
# as the opt-in self-contained publish makes it (composite ReadyToRun; a few minutes to compile .NET with the app).
rm -rf Tickets.Functions/bin/publish Tickets.Functions/bin/publish-self-contained
dotnet publish Tickets.Functions -c Release -o Tickets.Functions/bin/publish -nologo -v quiet
if [[ " $* " != *" --phases "* || "$*" == *startup* ]]; then
  dotnet publish Tickets.Functions -c Release -o Tickets.Functions/bin/publish-self-contained -p:TicketsSelfContained=true -nologo -v quiet
fi
dotnet build Tickets.Bench -c Release -nologo -v quiet
exec dotnet Tickets.Bench/bin/Release/net10.0/Tickets.Bench.dll "$@"
