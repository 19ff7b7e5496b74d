#!/usr/bin/env sh
# Applies the schema migrations to the Azure database with the same migrator the tests use
# (Tickets.Server `migrate`). Connects directly on 5432, not through PgBouncer: one short session.
# Reads POSTGRES_HOST, POSTGRES_DATABASE, POSTGRES_ADMIN_LOGIN (deployment outputs) and
# POSTGRES_ADMIN_PASSWORD from the environment (azd exports its environment to hooks).
set -eu
cd "$(dirname "$0")/.."
: "${POSTGRES_HOST:?}" "${POSTGRES_DATABASE:?}" "${POSTGRES_ADMIN_LOGIN:?}" "${POSTGRES_ADMIN_PASSWORD:?}"
ConnectionStrings__Tickets="Host=${POSTGRES_HOST};Port=5432;Database=${POSTGRES_DATABASE};Username=${POSTGRES_ADMIN_LOGIN};Password=${POSTGRES_ADMIN_PASSWORD};SSL Mode=Require;Timeout=15" \
ASPNETCORE_ENVIRONMENT=Production \
  dotnet run --project Tickets.Server -c Release -- migrate
