#!/usr/bin/env bash
# Installs the real clients tests/clients.rs drives: psql and pgJDBC with a JDK from Debian,
# and psycopg 3, asyncpg, SQLAlchemy 2 and pandas (pinned) in a cached virtualenv
# (GRANARY_CLIENTS_VENV, default ~/.cache/granary-clients-venv). Idempotent: a second run
# installs nothing. Needs root (or sudo) for apt-get.
set -euo pipefail
venv="${GRANARY_CLIENTS_VENV:-$HOME/.cache/granary-clients-venv}"
python_packages=("psycopg[binary]==3.3.9" "asyncpg==0.32.0" "SQLAlchemy==2.1.9" "pandas==3.1.1")

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
missing=()
command -v psql >/dev/null || missing+=(postgresql-client)
command -v javac >/dev/null || missing+=(default-jdk-headless)
[ -e /usr/share/java/postgresql.jar ] || missing+=(libpostgresql-jdbc-java)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp="$venv/.granary-packages"
if [ "$(cat "$stamp" 2>/dev/null)" != "${python_packages[*]}" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "${python_packages[@]}"
    echo "${python_packages[*]}" > "$stamp"
fi
echo "clients installed: $(psql --version), pgJDBC $(ls /usr/share/java/postgresql-[0-9]*.jar), $("$venv/bin/python" --version) in $venv"
