#!/usr/bin/env bash
# The embedded default: a job worker (queue in var/jobs.sqlite3) beside the web server.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
.venv/bin/python manage.py run_huey --quiet &
worker=$!
trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM
echo
echo "Ärende is running at http://127.0.0.1:${PORT}/ (job worker pid ${worker}). Stop with Ctrl-C."
echo
.venv/bin/python manage.py runserver "127.0.0.1:${PORT}"
