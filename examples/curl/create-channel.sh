#!/usr/bin/env bash
# Mints a token for a client id (App Engine's channel.create_channel); give it to that browser only.
#   ./create-channel.sh alice [MINUTES]   → {"token":"…","expireTime":"…","durationMinutes":120}
source "$(dirname "$0")/common.sh"
[ $# -ge 1 ] && [ $# -le 2 ] || usage "CLIENT_ID [DURATION_MINUTES]"
api_call CreateChannel "{\"client_id\": $(json_string "$1"), \"duration_minutes\": ${2:-0}}"
