#!/usr/bin/env bash
# Sends several messages to one client id in one call, in order; one result per message (a bad one
# fails alone, with its index).
#   ./send-messages.sh alice one two three   → {"results":[{"sent":{"seq":"1",…}},…]}
source "$(dirname "$0")/common.sh"
[ $# -ge 2 ] || usage "CLIENT_ID MESSAGE..."
client=$(json_string "$1")
shift
items=''
for m in "$@"; do items+="${items:+,}{\"client_id\": $client, \"message\": $(json_string "$m")}"; done
api_call SendMessages "{\"requests\": [$items]}"
