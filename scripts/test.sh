#!/usr/bin/env bash
# Runs the whole RunLedger test suite and ends with one line: "N passed, N failed".
# Usage: ./scripts/test.sh [extra dotnet test arguments]
set -uo pipefail
cd "$(dirname "$0")/.."

# The PostgreSQL tests start their own throwaway server from the installed binaries (initdb,
# pg_ctl, postgres) unless RUNLEDGER_TEST_POSTGRES names an existing server. When the binaries
# are missing, install them (as root) rather than let those tests fail one by one. No system
# service is started.
postgres_binaries_found() {
  command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1 && return 0
  local bin
  for bin in /usr/lib/postgresql/*/bin; do
    [ -x "$bin/pg_ctl" ] && [ -x "$bin/initdb" ] && return 0
  done
  return 1
}

if [ -z "${RUNLEDGER_TEST_POSTGRES:-}" ] && ! postgres_binaries_found; then
  install_command="apt-get update && apt-get install -y postgresql postgresql-contrib"
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL server binaries (initdb, pg_ctl) were not found and this is not root." >&2
    echo "Install them with: sudo sh -c '$install_command'" >&2
    echo "or set RUNLEDGER_TEST_POSTGRES to a connection string of a server the tests may use." >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
  echo "Installing PostgreSQL for the tests: $install_command"
  # policy-rc.d exit 101 keeps the package from starting a system service; the tests start their own.
  policy="/usr/sbin/policy-rc.d"
  made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
  fi
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib; } >/dev/null; then
    [ "$made_policy" -eq 1 ] && rm -f "$policy"
    echo "Installing PostgreSQL failed; run '$install_command' by hand and look at its output." >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
  [ "$made_policy" -eq 1 ] && rm -f "$policy"
  echo "Installed PostgreSQL (binaries in $(ls -d /usr/lib/postgresql/*/bin | tail -1))."
fi

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
