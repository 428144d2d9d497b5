#!/usr/bin/env bash
# Installs the pinned Java code generators into .tools/bin through Maven Central: protoc (for
# buf's `protoc_builtin: java`) and protoc-gen-grpc-java, both published there as native
# executables. `npm run gen` uses them for gen/java; sdk/java/pom.xml compiles that code against
# protobuf-java and grpc-java of the same versions.
# Idempotent: with the pinned files in place it does nothing and needs no network, so CI and
# scripts/gen.sh can call it every time. Needs Maven (apt-get install maven) and a JDK.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.tools/bin"
stamp="$bin/.java-tools"

# Pins: change a version here and in sdk/java/pom.xml together, then rerun `npm run gen` (the
# versions are written into gen/java). Not every grpc-java release has its linux-x86_64 plugin on
# Maven Central; 1.82.0 does.
protobuf_version=4.36.2
grpc_java_version=1.82.0
dependency_plugin=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

want="protoc=$protobuf_version protoc-gen-grpc-java=$grpc_java_version"
if [ -x "$bin/protoc" ] && [ -x "$bin/protoc-gen-grpc-java" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
if ! command -v mvn >/dev/null 2>&1; then
  echo "install-java-tools: mvn is not on PATH (apt-get install maven openjdk-17-jdk-headless)" >&2
  exit 1
fi
mkdir -p "$bin"

fetch() { # group:artifact:version, the name to give it in .tools/bin
  local coords="$1" name="$2" tmp
  tmp="$(mktemp -d)"
  echo "install-java-tools: $coords:exe:linux-x86_64"
  mvn -q -B -Dstyle.color=never "$dependency_plugin:copy" -Dartifact="$coords:exe:linux-x86_64" -DoutputDirectory="$tmp" -Dmdep.stripVersion=true
  install -m 0755 "$tmp"/*.exe "$bin/$name"
  rm -rf "$tmp"
}

fetch "com.google.protobuf:protoc:$protobuf_version" protoc
fetch "io.grpc:protoc-gen-grpc-java:$grpc_java_version" protoc-gen-grpc-java

# protoc says its version; the plugin does not, so the stamp vouches for both.
"$bin/protoc" --version | grep -qx "libprotoc ${protobuf_version#*.}" || {
  echo "install-java-tools: $bin/protoc is not libprotoc ${protobuf_version#*.}" >&2
  exit 1
}
echo "$want" >"$stamp"
