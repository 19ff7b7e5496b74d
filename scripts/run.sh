#!/usr/bin/env bash
# The run command: the whole backend on http://127.0.0.1:7071/api. With no ConnectionStrings__Tickets set,
# it starts the repository's own PostgreSQL (data in .local/postgres) and applies the migrations.
# Extra arguments go to the server, e.g. scripts/run.sh --urls http://0.0.0.0:8080
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-postgres.sh
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
exec dotnet run --project Tickets.Server -c Release -- "$@"
