#!/usr/bin/env bash
# Sends one message to every member of the topics named (encoded once, fanned out by the gateway).
#   ./broadcast.sh 'hello all' lobby [TOPIC...]   → {"clients":0,"clientsConnected":0,"topics":[{"topic":"lobby","seq":"1",…}]}
source "$(dirname "$0")/common.sh"
[ $# -ge 2 ] || usage "MESSAGE TOPIC..."
message=$(json_string "$1")
shift
api_call Broadcast "{\"message\": $message, \"topics\": $(json_strings "$@")}"
