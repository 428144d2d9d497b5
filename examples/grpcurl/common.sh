# Sourced by the scripts beside it: where channeld is and how grpcurl reaches it.
#   CHANNELD_GRPC_ADDR  host:port of channeld's gRPC listener (default localhost:50051)
#   CHANNELD_API_KEY    API key, when channeld has keys (sent as "authorization: Bearer <key>")
#   CHANNELD_GRPC_TLS   1 to use TLS instead of plaintext
#   GRPCURL             grpcurl binary (default: the repo's .tools/bin/grpcurl, else grpcurl on PATH)
set -euo pipefail

addr="${CHANNELD_GRPC_ADDR:-localhost:50051}"
repo_grpcurl="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.tools/bin/grpcurl"
if [ -n "${GRPCURL:-}" ]; then
  grpcurl_bin="$GRPCURL"
elif [ -x "$repo_grpcurl" ]; then
  grpcurl_bin="$repo_grpcurl"
else
  grpcurl_bin=grpcurl
fi

# -emit-defaults shows zero values too ("connected": false) instead of leaving them out.
grpcurl_args=(-emit-defaults)
[ "${CHANNELD_GRPC_TLS:-}" = 1 ] || grpcurl_args+=(-plaintext)
if [ -n "${CHANNELD_API_KEY:-}" ]; then
  # Single quotes on purpose: grpcurl expands the variable itself, so the key stays out of `ps`.
  grpcurl_args+=(-expand-headers -H 'authorization: Bearer ${CHANNELD_API_KEY}')
  export CHANNELD_API_KEY
fi

usage() {
  echo "usage: $(basename "$0") $1" >&2
  exit 2
}

# Quotes a shell string as a JSON string (backslash, quote and the usual control characters).
json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

# grpcurl_call METHOD JSON: one call of channel.v1.ChannelService/METHOD, the request on stdin.
grpcurl_call() {
  exec "$grpcurl_bin" "${grpcurl_args[@]}" -d @ "$addr" "channel.v1.ChannelService/$1" <<<"$2"
}
