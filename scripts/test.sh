#!/usr/bin/env bash
# The test command: builds every project (the Azure Functions app included), checks the Bicep
# infrastructure, and runs the whole test suite against a real PostgreSQL.
# Usage: scripts/test.sh [extra dotnet test arguments, e.g. --filter Concurrency]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-postgres.sh

dotnet build Tickets.Functions.sln -c Release -nologo -v quiet
bash scripts/check-infra.sh

results="$(mktemp -d)"
status=0
dotnet test Tickets.Tests -c Release --no-build -nologo \
  --logger "trx;LogFileName=tests.trx" --results-directory "$results" "$@" || status=$?

# One plain summary line, read from the test results rather than from console text.
trx="$results/tests.trx"
if [[ -f "$trx" ]]; then
  counters="$(grep -o '<Counters [^>]*>' "$trx")"
  get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<< "$counters"; }
  echo "Tests: $(get passed) passed, $(get failed) failed, $(get notExecuted) not run, $(get total) total"
fi
rm -rf "$results"
exit "$status"
