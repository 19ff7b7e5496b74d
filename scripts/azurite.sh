#!/usr/bin/env bash
# Azurite (the Azure Storage emulator) for running Tickets.Functions under Core Tools: the timer trigger keeps
# its singleton lease and schedule status in AzureWebJobsStorage=UseDevelopmentStorage=true.
# Installs the npm package into .local/azurite-npm on first use; data in .local/azurite.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=".local/azurite-npm"
if [[ ! -x "$prefix/node_modules/.bin/azurite" ]]; then
  npm install --silent --no-audit --no-fund --prefix "$prefix" azurite
fi
mkdir -p .local/azurite
exec "$prefix/node_modules/.bin/azurite" --silent --disableTelemetry --location .local/azurite --skipApiVersionCheck \
  --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 "$@"
