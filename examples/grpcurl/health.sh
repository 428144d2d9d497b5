#!/usr/bin/env bash
# grpc.health.v1 check: prints {"status": "SERVING"} while channeld serves, NOT_SERVING while it
# shuts down. Health needs no API key (load balancers probe it bare), but reflection does, so the
# schema comes from this repository's gen/descriptors/health.binpb when it is there.
#   ./health.sh [SERVICE]        SERVICE: '' (the whole server, default) or channel.v1.ChannelService
source "$(dirname "$0")/common.sh"
protoset="$(dirname "$0")/../../gen/descriptors/health.binpb"
schema=()
[ -f "$protoset" ] && schema=(-protoset "$protoset")
exec "$grpcurl_bin" "${grpcurl_args[@]}" "${schema[@]}" -d "{\"service\": $(json_string "${1:-}")}" "$addr" grpc.health.v1.Health/Check
