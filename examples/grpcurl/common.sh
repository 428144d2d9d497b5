# Sourced by the scripts beside it: where channeld is and how grpcurl reaches it.
#   CHANNELD_GRPC_ADDR  host:port of channeld's gRPC listener (default localhost:50051)
#   CHANNELD_API_KEY    API key, when channeld has keys (sent as "authorization: Bearer <key>")
#   CHANNELD_GRPC_TLS   1 to use TLS instead of plaintext (channeld runs with --grpc-tls-cert/--grpc-tls-key)
#   CHANNELD_GRPC_CACERT  PEM file of the CA that signed channeld's certificate (default: the system's CAs)
#   CHANNELD_GRPC_CERT, CHANNELD_GRPC_KEY  this client's certificate and key, for mutual TLS
#                         (channeld runs with --grpc-tls-client-ca)
#   CHANNELD_GRPC_SERVER_NAME  the name to check channeld's certificate against, when it is not the host of the address
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
if [ "${CHANNELD_GRPC_TLS:-}" = 1 ]; then
  [ -z "${CHANNELD_GRPC_CACERT:-}" ] || grpcurl_args+=(-cacert "$CHANNELD_GRPC_CACERT")
  [ -z "${CHANNELD_GRPC_CERT:-}" ] || grpcurl_args+=(-cert "$CHANNELD_GRPC_CERT" -key "${CHANNELD_GRPC_KEY:?CHANNELD_GRPC_KEY goes with CHANNELD_GRPC_CERT}")
  [ -z "${CHANNELD_GRPC_SERVER_NAME:-}" ] || grpcurl_args+=(-servername "$CHANNELD_GRPC_SERVER_NAME")
else
  grpcurl_args+=(-plaintext)
fi
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
