#!/bin/sh
# For classic App Engine Go apps that build in GOPATH mode (GO111MODULE=off): makes the import
# path they already use, "appengine/channel" by default, this package, and puts its dependencies
# (the generated stubs, grpc, protobuf, golang.org/x/...) in GOPATH/src at the versions go.mod
# pins. Since Go 1.22 `go get` no longer works in GOPATH mode, so they are copied from this
# module's own `go mod vendor`.
#
#   sdk/go/channel/install-gopath.sh [GOPATH [IMPORT_PATH]]
#
# The import path becomes a symbolic link to this directory, so the app builds against the
# checkout it came from. Packages already in GOPATH/src under the same paths are replaced.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
gopath=${1:-$(go env GOPATH | cut -d: -f1)}
import_path=${2:-appengine/channel}

vendor=$(mktemp -d)
trap 'rm -rf "$vendor"' EXIT
(cd "$here" && GO111MODULE=on GOFLAGS= go mod vendor -o "$vendor/src")
rm "$vendor/src/modules.txt"
mkdir -p "$gopath/src"
cp -R "$vendor/src/." "$gopath/src/"

target="$gopath/src/$import_path"
mkdir -p "$(dirname "$target")"
rm -rf "$target"
ln -s "$here" "$target"
echo "GOPATH mode: import \"$import_path\" is now $here (dependencies in $gopath/src)"
