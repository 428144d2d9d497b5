#!/usr/bin/env bash
# Installs the pinned Go tools into .tools/bin through the Go module proxy: the protoc plugins that
# `npm run gen` uses for gen/go, and grpcurl for examples/grpcurl and its tests.
# Idempotent: a tool already built at the pinned version is left alone, so CI and scripts/gen.sh
# can call it every time. Needs Go >= 1.24 (1.26 for the modules in gen/go, sdk/go, examples/go).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.tools/bin"

# Pins: change a version here and rerun `npm run gen` (the plugin versions are written into gen/go).
tools=(
  "google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12"
  "google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2"
  "github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4"
)

# The official tarball's place, for shells whose PATH lacks it.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-go-tools: go is not on PATH (Go >= 1.24 is needed to build the pinned tools)" >&2
  exit 1
fi
mkdir -p "$bin"

for spec in "${tools[@]}"; do
  pkg="${spec%@*}"
  version="${spec##*@}"
  name="${pkg##*/}"
  # `go version -m` prints the main module's version; matching it proves the binary is the pin.
  if [ -x "$bin/$name" ] && go version -m "$bin/$name" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]].*[[:space:]]${version//./\\.}([[:space:]]|$)"; then
    continue
  fi
  echo "install-go-tools: go install $spec"
  # GOTOOLCHAIN=local: never download another Go toolchain (only the module proxy is reachable).
  GOBIN="$bin" GOTOOLCHAIN=local go install "$spec"
done
