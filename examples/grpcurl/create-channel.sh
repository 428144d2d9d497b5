#!/usr/bin/env bash
# Mints a token for a browser client (App Engine's channel.create_channel).
#   ./create-channel.sh alice          → {"token": "…", "expireTime": "…", "durationMinutes": 120}
#   ./create-channel.sh alice 60       a token valid for 60 minutes (1–1440)
source "$(dirname "$0")/common.sh"
[ $# -ge 1 ] && [ $# -le 2 ] || usage "CLIENT_ID [DURATION_MINUTES]"
duration="${2:-0}"
[[ "$duration" =~ ^[0-9]+$ ]] || usage "CLIENT_ID [DURATION_MINUTES]  (minutes: a whole number)"
grpcurl_call CreateChannel "{\"client_id\": $(json_string "$1"), \"duration_minutes\": $duration}"
