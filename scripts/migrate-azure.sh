#!/usr/bin/env sh
# Applies the schema migrations to the Azure database with the same migrator the tests use
# (Tickets.Server `migrate`), then creates or updates the app's own login (`create-app-role`): the app
# connects as that role, which may read and write rows but not change the schema; only this step uses the
# administrator. Connects directly on 5432, not through PgBouncer (short sessions), and verifies the
# server's certificate and host name.
# Reads POSTGRES_HOST, POSTGRES_DATABASE, POSTGRES_ADMIN_LOGIN, POSTGRES_APP_LOGIN (deployment outputs),
# POSTGRES_ADMIN_PASSWORD and POSTGRES_APP_PASSWORD from the environment (azd exports its environment to hooks).
set -eu
cd "$(dirname "$0")/.."
: "${POSTGRES_HOST:?}" "${POSTGRES_DATABASE:?}" "${POSTGRES_ADMIN_LOGIN:?}" "${POSTGRES_ADMIN_PASSWORD:?}"
: "${POSTGRES_APP_LOGIN:?}" "${POSTGRES_APP_PASSWORD:?}"
export ConnectionStrings__Tickets="Host=${POSTGRES_HOST};Port=5432;Database=${POSTGRES_DATABASE};Username=${POSTGRES_ADMIN_LOGIN};Password=${POSTGRES_ADMIN_PASSWORD};SSL Mode=VerifyFull;Timeout=15"
export ASPNETCORE_ENVIRONMENT=Production
dotnet run --project Tickets.Server -c Release -- migrate
TICKETS_APP_ROLE_PASSWORD="${POSTGRES_APP_PASSWORD}" \
  dotnet run --project Tickets.Server -c Release --no-build -- create-app-role "${POSTGRES_APP_LOGIN}"
