#!/usr/bin/env bash
# Runs the Python of .tools/venv (grpcio-tools, grpcio, protobuf; see
# scripts/install-python-tools.sh). buf.gen.yaml uses it for the Python stubs: as protoc
# (`-m grpc_tools.protoc`, whose protoc has the python and pyi generators built in) and to run
# scripts/protoc-gen-grpc-python.py.
set -euo pipefail
python="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools/venv/bin/python"
if [ ! -x "$python" ]; then
  echo "venv-python: $python is missing; run scripts/install-python-tools.sh" >&2
  exit 1
fi
exec "$python" "$@"
