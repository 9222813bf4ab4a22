#!/usr/bin/env bash
# Runs the whole RunLedger test suite and ends with one line: "N passed, N failed".
# Usage: ./scripts/test.sh [extra dotnet test arguments]
set -uo pipefail
cd "$(dirname "$0")/.."

results="TestResults"
rm -rf "$results"
mkdir -p "$results"

dotnet test RunLedger.slnx --configuration Release \
  --logger "trx" --results-directory "$results" "$@"
status=$?

passed=0; failed=0; skipped=0; total=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  t=$(get total); p=$(get passed); f=$(get failed); e=$(get error); x=$(get timeout)
  total=$((total + t)); passed=$((passed + p)); failed=$((failed + f + e + x))
  skipped=$((skipped + t - p - f - e - x))
done

if [ "$total" -eq 0 ]; then
  echo "No test results were found; the build or the test run failed." >&2
  echo "0 passed, 1 failed"
  exit 1
fi

echo "$skipped skipped"
echo "$passed passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then
  exit 1
fi
