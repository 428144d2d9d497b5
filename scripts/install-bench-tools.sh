#!/usr/bin/env bash
# Installs what `npm run bench` needs beyond npm and redis-server, through the Go module proxy:
# Centrifugo (the peer the bench measures channeld against) into .tools/bin, and the modules of
# the Go load generator (bench/loadgen, built again by every bench run; Go caches the build).
# Idempotent: a Centrifugo already built at the pin is left alone. Needs Go >= 1.26.
# Building Centrifugo from source takes ~3.5 minutes on 2 cores (download included), once.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.tools/bin"

# The pin: bench/README.md's figures are from this version.
centrifugo="github.com/centrifugal/centrifugo/v6@v6.9.1"

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-bench-tools: go is not on PATH (Go >= 1.26 builds Centrifugo and bench/loadgen)" >&2
  exit 1
fi
mkdir -p "$bin"

version="${centrifugo##*@}"
# `go version -m` names the main module and its version: matching both proves the binary is the pin.
if ! { [ -x "$bin/centrifugo" ] && go version -m "$bin/centrifugo" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]]+github.com/centrifugal/centrifugo/v6[[:space:]]+${version//./\\.}([[:space:]]|$)"; }; then
  echo "install-bench-tools: go install $centrifugo"
  # GOTOOLCHAIN=local: never download another Go toolchain (only the module proxy is reachable).
  GOBIN="$bin" GOTOOLCHAIN=local go install "$centrifugo"
fi

echo "install-bench-tools: building bench/loadgen"
(cd "$root/bench/loadgen" && GOTOOLCHAIN=local go build -o bin/loadgen .)
