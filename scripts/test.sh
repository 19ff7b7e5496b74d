#!/usr/bin/env bash
# The test command: builds every project (the Azure Functions app included), checks the Bicep
# infrastructure, and runs the whole test suite against a real PostgreSQL.
# Usage: scripts/test.sh [extra dotnet test arguments, e.g. --filter Concurrency]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-postgres.sh
bash scripts/ensure-chromium.sh

dotnet build Tickets.Functions.sln -c Release -nologo -v quiet
bash scripts/check-infra.sh

results="$(mktemp -d)"
status=0
# Tags this run's Functions workers (see below).
export TICKETS_TEST_RUN="run$$"
dotnet test Tickets.Tests -c Release --no-build -nologo \
  --logger "trx;LogFileName=tests.trx" --results-directory "$results" "$@" || status=$?

# The stand-in Functions host fences its workers (they die with the test process); a worker of this run found here
# anyway is reported and ended, so that no run leaves one behind (other runs' workers are left alone).
workers="--functions-worker-id tickets-test-worker-$TICKETS_TEST_RUN-"
if pgrep -f -- "$workers" > /dev/null; then
  echo "Ending Functions workers left behind by the tests: $(pgrep -f -- "$workers" | tr '\n' ' ')" >&2
  pkill -KILL -f -- "$workers" || true
fi

if [[ -d artifacts/browser ]]; then
  echo "Browser screenshots (the docs page test): $PWD/artifacts/browser"
fi
# One plain summary line, read from the test results rather than from console text, with the end-to-end tests
# counted per host (the nested classes Server and Functions of each end-to-end test class).
trx="$results/tests.trx"
if [[ -f "$trx" ]]; then
  counters="$(grep -o '<Counters [^>]*>' "$trx")"
  get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<< "$counters"; }
  on() { grep -o '<UnitTestResult [^>]*testName="[^"]*+'"$1"'\.[^>]*outcome="Passed"' "$trx" | wc -l; }
  echo "end to end: $(on Server) passed on Tickets.Server, $(on Functions) passed on the Functions worker"
  echo "Tests: $(get passed) passed, $(get failed) failed, $(get notExecuted) not run, $(get total) total"
fi
rm -rf "$results"
exit "$status"
