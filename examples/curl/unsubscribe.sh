#!/usr/bin/env bash
# Ends topic memberships.
#   ./unsubscribe.sh lobby alice   → {"removed":1}
source "$(dirname "$0")/common.sh"
[ $# -ge 2 ] || usage "TOPIC CLIENT_ID..."
topic=$(json_string "$1")
shift
api_call Unsubscribe "{\"topic\": $topic, \"client_ids\": $(json_strings "$@")}"
