#!/usr/bin/env bash
# Sends a message to a client's channel (App Engine's channel.send_message). It succeeds even when
# no browser is connected ("connected":false); the message waits for the next socket.
#   ./send-message.sh alice 'hello'   → {"seq":"1","epoch":"…","connected":true,"delivered":false}
source "$(dirname "$0")/common.sh"
[ $# -eq 2 ] || usage "CLIENT_ID MESSAGE"
api_call SendMessage "{\"client_id\": $(json_string "$1"), \"message\": $(json_string "$2")}"
