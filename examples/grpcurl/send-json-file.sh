#!/usr/bin/env bash
# Sends the contents of a file (usually JSON) as one message; the browser's onmessage gets the
# text as is, ready for JSON.parse. Up to 32767 bytes.
#   ./send-json-file.sh alice state.json
#   echo '{"score": 3}' | ./send-json-file.sh alice -
source "$(dirname "$0")/common.sh"
[ $# -eq 2 ] || usage "CLIENT_ID FILE|-"
if [ "$2" = - ]; then body="$(cat)"; else body="$(cat -- "$2")"; fi
grpcurl_call SendMessage "{\"client_id\": $(json_string "$1"), \"message\": $(json_string "$body")}"
