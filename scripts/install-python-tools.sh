#!/usr/bin/env bash
# Installs the Python toolchain (grpcio-tools, grpcio, protobuf; pinned in
# sdk/python/requirements-dev.txt) into a virtualenv at .tools/venv. Idempotent: a second run
# with unchanged requirements does nothing and needs no network.
#
#   scripts/install-python-tools.sh          # PYTHON=python3.11 to pick the interpreter
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.tools/venv"
requirements="$root/sdk/python/requirements-dev.txt"
python="${PYTHON:-python3}"
stamp="$venv/.requirements.sha256"

if ! command -v "$python" >/dev/null 2>&1; then
  echo "install-python-tools: $python not found (apt-get install python3 python3-venv)" >&2
  exit 1
fi

# The stamp covers both requirement files, since requirements-dev.txt includes the other one.
want="$(cat "$requirements" "$root/sdk/python/requirements.txt" | sha256sum | cut -d' ' -f1)"

# A venv whose interpreter vanished (e.g. pyenv version removed) is rebuilt, not patched.
if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  rm -rf "$venv"
fi

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c 'import grpc_tools, grpc, google.protobuf' >/dev/null 2>&1; then
  echo "install-python-tools: $venv is up to date"
  exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --requirement "$requirements"
echo "$want" >"$stamp"
echo "install-python-tools: installed $(cd "$root" && "$venv/bin/python" -m pip freeze --disable-pip-version-check | grep -E '^(grpcio|grpcio-tools|protobuf)==' | tr '\n' ' ')into $venv"
