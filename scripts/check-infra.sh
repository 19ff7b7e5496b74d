#!/usr/bin/env bash
# Compiles and lints infra/ with the Bicep CLI from the NuGet package Azure.Bicep.CommandLine.linux-x64
# (restored by the test project; works offline). Fails on any error or warning.
set -euo pipefail
cd "$(dirname "$0")/.."

version="$(sed -n 's/.*"Azure.Bicep.CommandLine.linux-x64" Version="\([^"]*\)".*/\1/p' Directory.Packages.props)"
bicep="${NUGET_PACKAGES:-$HOME/.nuget/packages}/azure.bicep.commandline.linux-x64/${version}/tools/bicep"
if [[ ! -x "$bicep" ]]; then
  dotnet restore Tickets.Tests -nologo -v quiet
fi
chmod +x "$bicep" 2>/dev/null || true

output="$(mktemp)"
trap 'rm -f "$output"' EXIT
status=0
"$bicep" build infra/main.bicep --stdout > /dev/null 2> "$output" || status=$?
for file in infra/main.bicep infra/app/*.bicep; do
  "$bicep" lint "$file" >> "$output" 2>&1 || status=$?
done
if [[ $status -ne 0 ]] || grep -qiE "warning|error" "$output"; then
  cat "$output" >&2
  echo "infra/: bicep build or lint reported problems" >&2
  exit 1
fi
echo "infra/: bicep build and lint clean (Bicep ${version})"
