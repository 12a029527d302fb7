#!/usr/bin/env bash
# Installs the real clients, then runs every test with them required (a missing client
# fails tests/clients.rs instead of being skipped). Arguments go to `cargo test`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/install.sh"
cd "$here/../.."
GRANARY_CLIENTS_REQUIRED=1 cargo test "$@"
