#!/usr/bin/env bash
# Lists channeld's services through server reflection, or the methods of one of them.
#   ./list.sh                          channel.v1.ChannelService, grpc.health.v1.Health
#   ./list.sh channel.v1.ChannelService
source "$(dirname "$0")/common.sh"
exec "$grpcurl_bin" "${grpcurl_args[@]}" "$addr" list "$@"
