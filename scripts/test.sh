#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test with ctest.
# Tests build in build-test/, with the EvoApprox slot pointed at the fixture folder tests/evoapprox
# (circuits written for the tests), so a user's build/ never lists those circuits.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$root/build-test" -DAXSA_EVOAPPROX_DIR="$root/tests/evoapprox/multiplers"
cd "$root/build-test"
ctest --output-on-failure -j "$(nproc)" --timeout 900
