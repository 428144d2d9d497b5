#!/usr/bin/env bash
# Makes client ids members of a topic (kept on the server; it survives reconnects).
#   ./subscribe.sh lobby alice bob   → {"added":2}
source "$(dirname "$0")/common.sh"
[ $# -ge 2 ] || usage "TOPIC CLIENT_ID..."
topic=$(json_string "$1")
shift
api_call Subscribe "{\"topic\": $topic, \"client_ids\": $(json_strings "$@")}"
