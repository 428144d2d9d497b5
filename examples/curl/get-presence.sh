#!/usr/bin/env bash
# Says, for each client id, whether a socket is open now.
#   ./get-presence.sh alice bob   → {"clients":[{"clientId":"alice","connected":true,"connectedSince":"…"},…]}
source "$(dirname "$0")/common.sh"
[ $# -ge 1 ] || usage "CLIENT_ID..."
api_call GetPresence "{\"client_ids\": $(json_strings "$@")}"
