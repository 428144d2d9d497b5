#!/usr/bin/env bash
# Revokes every token of a client id and closes its socket.
#   ./close-channel.sh alice   → {"wasConnected":true}
source "$(dirname "$0")/common.sh"
[ $# -eq 1 ] || usage "CLIENT_ID"
api_call CloseChannel "{\"client_id\": $(json_string "$1")}"
