#!/usr/bin/env bash
# Streams presence: first who is connected now (reason SNAPSHOT, then a snapshotComplete marker),
# then every CONNECTED/DISCONNECTED as it happens, one JSON object each, until interrupted.
#   ./watch-presence.sh                all client ids
#   ./watch-presence.sh visitor-       only client ids starting with "visitor-"
source "$(dirname "$0")/common.sh"
[ $# -le 1 ] || usage "[CLIENT_ID_PREFIX]"
grpcurl_call WatchPresence "{\"snapshot\": true, \"client_id_prefix\": $(json_string "${1:-}")}"
