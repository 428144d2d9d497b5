#!/usr/bin/env bash
# Regenerates everything under gen/ from proto/ (what `npm run gen` runs): installs the pinned
# code generators if missing, then gen/ts, gen/go (and any other plugin in buf.gen.yaml) and the
# descriptor sets the server's reflection reads. Running it twice gives no diff.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-go-tools.sh
bash scripts/install-python-tools.sh
bash scripts/install-java-tools.sh
# /usr/local/go/bin last: the official Go tarball, for shells whose PATH lacks it.
export PATH="$PWD/.tools/bin:$PWD/node_modules/.bin:$PATH:/usr/local/go/bin"

buf generate
buf build -o gen/descriptors/channel.binpb
buf build node_modules/grpc-health-check/proto -o gen/descriptors/health.binpb

# gen/go is a Go module of its own; tidy keeps go.sum in step with what the stubs import.
(cd gen/go && GOTOOLCHAIN=local go mod tidy)
