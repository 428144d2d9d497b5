# Sourced by the scripts beside it: where channeld's HTTP API is and how curl reaches it.
#   CHANNELD_HTTP_URL  base URL of the HTTP port, or of --api-port (default http://localhost:8080)
#   CHANNELD_API_KEY   API key, when channeld has keys (sent as "Authorization: Bearer <key>")
#   CURL               curl binary (default: curl on PATH)
set -euo pipefail

api="${CHANNELD_HTTP_URL:-http://localhost:8080}"
api="${api%/}/channel.v1.ChannelService"
curl_bin="${CURL:-curl}"

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

# JSON array of strings from the arguments.
json_strings() {
  local out='' s
  for s in "$@"; do out+="${out:+,}$(json_string "$s")"; done
  printf '[%s]' "$out"
}

# The key goes to curl in a config file on a pipe, never on its command line (where `ps` shows it).
auth_config() {
  if [ -n "${CHANNELD_API_KEY:-}" ]; then printf 'header = "Authorization: Bearer %s"\n' "$CHANNELD_API_KEY"; fi
}

# api_call METHOD JSON: one call of POST /channel.v1.ChannelService/METHOD. Prints the answer
# (JSON) on stdout; on an error status prints it on stderr and exits 1.
api_call() {
  local out status
  out=$("$curl_bin" -sS -K <(auth_config) -H 'content-type: application/json' --data-binary @- \
    -w '\n%{http_code}' "$api/$1" <<<"$2")
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  if [ "$status" -ge 200 ] && [ "$status" -lt 300 ]; then
    printf '%s\n' "$out"
  else
    printf 'HTTP %s: %s\n' "$status" "$out" >&2
    exit 1
  fi
}

# api_stream METHOD JSON: a streaming call; each line is printed as it comes, until interrupted.
api_stream() {
  exec "$curl_bin" -sS -N --fail-with-body -K <(auth_config) -H 'content-type: application/json' \
    -H 'accept: application/x-ndjson' --data-binary @- "$api/$1" <<<"$2"
}
