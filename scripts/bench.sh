#!/usr/bin/env bash
# The on-sale benchmark (see docs/benchmarks.md). Builds Release, starts its own PostgreSQL and server.
# Usage: scripts/bench.sh [--rounds 3] [--duration 4] [--warmup 10] [--connections 64,256] [--out bench.json] [--phases ...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-postgres.sh
dotnet build Tickets.Server -c Release -nologo -v quiet
dotnet build Tickets.Functions -c Release -nologo -v quiet
# The start-up phase also starts the Functions app as it is deployed (dotnet publish: ReadyToRun, linux-x64).
rm -rf Tickets.Functions/bin/publish
dotnet publish Tickets.Functions -c Release -o Tickets.Functions/bin/publish -nologo -v quiet
dotnet build Tickets.Bench -c Release -nologo -v quiet
exec dotnet Tickets.Bench/bin/Release/net10.0/Tickets.Bench.dll "$@"
