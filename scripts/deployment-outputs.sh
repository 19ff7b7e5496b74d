#!/usr/bin/env bash
# Prints NAME=value lines for the named outputs of a deployment, read from the JSON of
# `az deployment sub create ... --query properties.outputs -o json`.
# ARM may hand output names back in another case than the template declares them (a known
# ARM/Bicep behaviour that azd works around), so names are matched case-insensitively. A missing,
# empty or ambiguous output is an error naming it, never the string "null" passed on.
# Usage: scripts/deployment-outputs.sh outputs.json NAME... >> "$GITHUB_OUTPUT"
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 outputs.json NAME..." >&2
  exit 2
fi
if ! command -v jq > /dev/null; then
  sudo=""
  [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq jq > /dev/null
fi

file="$1"
shift
lines=()
missing=()
for name in "$@"; do
  # One line per match: the number of outputs whose name matches, then the value if exactly one did.
  read -r count value < <(jq -r --arg name "$name" '
    [to_entries[] | select((.key | ascii_downcase) == ($name | ascii_downcase)) | .value.value]
    | "\(length) \(if length == 1 and .[0] != null then .[0] | tostring else "" end)"' "$file")
  if [[ "$count" -ne 1 || -z "${value:-}" ]]; then
    missing+=("$name (${count} match(es))")
  else
    lines+=("${name}=${value}")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  printf 'deployment output missing, empty or ambiguous: %s\n' "${missing[@]}" >&2
  exit 1
fi
printf '%s\n' "${lines[@]}"
