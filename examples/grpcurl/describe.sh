#!/usr/bin/env bash
# Shows a service or message as proto source, with its comments, through server reflection.
#   ./describe.sh                          the whole ChannelService
#   ./describe.sh channel.v1.SendMessageRequest
source "$(dirname "$0")/common.sh"
exec "$grpcurl_bin" "${grpcurl_args[@]}" "$addr" describe "${1:-channel.v1.ChannelService}"
