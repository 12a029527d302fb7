#!/usr/bin/env bash
# Creates the Python virtualenv `granary bench compare` runs ClickHouse (chdb) and DuckDB in.
# Usage: bench/setup-venv.sh [DIR]   (default: ~/.cache/granary-bench-venv)
set -euo pipefail
venv="${1:-$HOME/.cache/granary-bench-venv}"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet chdb duckdb
"$venv/bin/python" -c 'import chdb, duckdb; print("chdb", chdb.__version__, "duckdb", duckdb.__version__)'
echo "ready: $venv/bin/python"
