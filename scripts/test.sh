#!/usr/bin/env bash
# The test command: builds every project (the Azure Functions app included), checks the Bicep
# infrastructure, and runs the whole test suite against a real PostgreSQL; then the database-facing test classes
# a second time through a local PgBouncer in transaction mode (as Azure's built-in one runs), unless test
# arguments were given or the tests run against a server of your own (TICKETS_TEST_CONNECTION_STRING).
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

# The PgBouncer pass leaves out the classes that do not reach PostgreSQL through the per-class fixture: private
# clusters (faults, the Functions worker's), the server itself (migrations, roles), PostgreSQL backends as such
# (connection lanes, which a pooler hides; prepared statements per backend; a login's connection limit), and classes
# without a database.
bouncer_pass=0
if [[ $# -eq 0 && -z "${TICKETS_TEST_CONNECTION_STRING:-}" && "${TICKETS_TEST_PGBOUNCER:-}" != "1" ]]; then
  bouncer_pass=1
  not_through_pgbouncer=(ConnectionLaneTests FaultTests FunctionsWorkerTests MigratorTests AppRoleTests InfrastructureTests
    AccountRulesTests ErrorMappingTests FunctionsAppTests DatabaseResilienceTests TokenServiceTests PreparedStatementsTests
    ConnectionLimitApiTests)
  filter="$(printf 'FullyQualifiedName!~Tickets.Tests.%s&' "${not_through_pgbouncer[@]}")"
  TICKETS_TEST_PGBOUNCER=1 dotnet test Tickets.Tests -c Release --no-build -nologo --filter "${filter%&}" \
    --logger "trx;LogFileName=pgbouncer.trx" --results-directory "$results" || status=$?
fi

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
trx="$results/pgbouncer.trx"
if [[ "$bouncer_pass" == 1 && -f "$trx" ]]; then
  counters="$(grep -o '<Counters [^>]*>' "$trx")"
  echo "Through PgBouncer (transaction mode): $(get passed) passed, $(get failed) failed, $(get notExecuted) not run, $(get total) total"
fi
rm -rf "$results"
exit "$status"
