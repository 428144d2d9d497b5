#!/usr/bin/env bash
# Streams presence as newline-delimited JSON: who is connected now ({"event":{…,"reason":
# "PRESENCE_REASON_SNAPSHOT"}}, then {"snapshotComplete":{"cursor":…}}), then every change as it
# happens, {"heartbeat":{}} while idle, until interrupted. Pass the last cursor seen to resume
# after it (a resume skips the snapshot).
#   ./watch-presence.sh                    all client ids
#   ./watch-presence.sh visitor-           only client ids starting with "visitor-"
#   ./watch-presence.sh visitor- CURSOR    resume after CURSOR
source "$(dirname "$0")/common.sh"
[ $# -le 2 ] || usage "[CLIENT_ID_PREFIX [CURSOR]]"
snapshot=true
[ -z "${2:-}" ] || snapshot=false
api_stream WatchPresence "{\"snapshot\": $snapshot, \"client_id_prefix\": $(json_string "${1:-}"), \"cursor\": $(json_string "${2:-}")}"
