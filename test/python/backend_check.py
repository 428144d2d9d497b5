"""The Python side of test/backend-python.test.ts: a backend using gen/python and channeld_channel.

It reports facts as JSON lines on stdout ({"event": ...}); the TypeScript test holds the
assertions and plays the browser: it opens a real WebSocket with the token printed here. Both
sides wait on events (presence from WatchPresence, lines on stdout), never on time.

Run with PYTHONPATH=gen/python:sdk/python, CHANNELD_GRPC_ADDR, CHANNELD_API_KEY and the client
id as the only argument; CHANNELD_TEST_EXPIRED_TOKEN and CHANNELD_TEST_FOREIGN_TOKEN hold tokens
for that client id which the server no longer takes (one expired, one signed with another secret).
"""

import json
import os
import queue
import sys
import threading
from typing import Any

import grpc

import channeld_channel
from channel.v1 import channel_pb2, channel_pb2_grpc

WAIT_SECONDS = 20


def report(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def watch_presence(stub: channel_pb2_grpc.ChannelServiceStub, client_id: str, metadata, events: "queue.Queue"):
    """Starts WatchPresence for client_id on a thread; every response lands in `events`."""
    call = stub.WatchPresence(
        channel_pb2.WatchPresenceRequest(client_ids=[client_id], snapshot=True), metadata=metadata
    )

    def pump() -> None:
        try:
            for response in call:
                events.put(response)
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.CANCELLED:
                events.put(err)

    threading.Thread(target=pump, daemon=True).start()
    return call


def next_presence(events: "queue.Queue") -> channel_pb2.PresenceEvent:
    item = events.get(timeout=WAIT_SECONDS)
    if isinstance(item, Exception):
        raise item
    if item.WhichOneof("kind") != "event":
        raise AssertionError("expected a presence event, got %s" % item)
    event = item.event
    report(
        "presence",
        clientId=event.client_id,
        state=channel_pb2.PresenceState.Name(event.state),
        reason=channel_pb2.PresenceReason.Name(event.reason),
        cursor=event.cursor,
    )
    return event


class RequestRecorder(grpc.UnaryUnaryClientInterceptor):
    """Keeps every request the module sends, to see what went on the wire."""

    def __init__(self) -> None:
        self.requests: list = []

    def intercept_unary_unary(self, continuation, client_call_details, request):
        self.requests.append(request)
        return continuation(client_call_details, request)


def attempt(case: str, call) -> None:
    """Runs call and reports what it raised (or returned), for the TypeScript side to judge."""
    try:
        result = call()
    except Exception as err:  # the point is to see exactly what was raised
        code = getattr(err, "code", None)
        report(
            "raised",
            case=case,
            exception=type(err).__name__,
            isChannelError=isinstance(err, channeld_channel.Error),
            code=code.name if isinstance(code, grpc.StatusCode) else None,
            message=str(err),
        )
    else:
        report("returned", case=case, value=result if isinstance(result, (str, type(None))) else repr(result))


def main() -> None:
    client_id = sys.argv[1]
    report("imports", pb2=channel_pb2.__file__, module=channeld_channel.__file__)

    # The module functions read CHANNELD_GRPC_ADDR and CHANNELD_API_KEY on first use.
    client = channeld_channel.Client()
    stub = client.stub
    events: "queue.Queue" = queue.Queue()
    watch = watch_presence(stub, client_id, client.metadata, events)
    first = events.get(timeout=WAIT_SECONDS)
    if isinstance(first, Exception):
        raise first
    report("snapshot", complete=first.WhichOneof("kind") == "snapshot_complete")

    token = channeld_channel.create_channel(client_id, duration_minutes=5)
    report("token", token=token)

    next_presence(events)  # the TypeScript side opens its socket with the token
    channeld_channel.send_message(client_id, "hello from python \u2713")
    sent = stub.SendMessage(
        channel_pb2.SendMessageRequest(token=token, message='{"via": "gen/python"}'),
        metadata=client.metadata,
        timeout=10,
    )
    report("sent", seq=sent.seq, epoch=sent.epoch, connected=sent.connected)
    # App Engine took the token wherever it took a client id.
    channeld_channel.send_message(token, "by token \u2713")

    # A string that is not a live token is a client id, as on App Engine: no error, and nothing
    # for this client (the last message below would come after anything misrouted here).
    attempt("token expired", lambda: channeld_channel.send_message(os.environ["CHANNELD_TEST_EXPIRED_TOKEN"], "to an expired token"))
    revoked = channeld_channel.create_channel("py-revoked")
    stub.CloseChannel(channel_pb2.CloseChannelRequest(client_id="py-revoked"), metadata=client.metadata, timeout=10)
    attempt("token revoked", lambda: channeld_channel.send_message(revoked, "to a revoked token"))
    foreign = os.environ["CHANNELD_TEST_FOREIGN_TOKEN"]
    # The foreign token as a client id of its own, to show where its message went.
    report("foreign channel", token=channeld_channel.create_channel(foreign))
    attempt("token of another server", lambda: channeld_channel.send_message(foreign, "to the client id that looks like a token"))
    attempt("token shaped, 300 bytes", lambda: channeld_channel.send_message("A" * 300, "x"))
    attempt("token shaped, 256 bytes", lambda: channeld_channel.send_message("A" * 256, "x"))
    channeld_channel.send_message(client_id, "after the tokens that are not live")
    # App Engine dropped a message sent while no client was connected; channeld keeps it for the
    # next socket, so an app that sends right after create_channel no longer loses it.
    offline = channeld_channel.create_channel("py-offline")
    channeld_channel.send_message("py-offline", "sent before the browser connected")
    report("offline channel", token=offline)
    next_presence(events)  # ... and closes it once every message arrived
    watch.cancel()

    # Untyped on purpose: the cases below pass what the signatures forbid, as old apps might.
    appengine: Any = channeld_channel
    recorder = RequestRecorder()
    report(
        "exports",
        names=sorted(name for name in dir(channeld_channel) if not name.startswith("_")),
        errors=sorted(
            name
            for name, value in vars(channeld_channel).items()
            if isinstance(value, type) and issubclass(value, channeld_channel.Error)
        ),
    )

    attempt("client id not a string", lambda: appengine.create_channel(42))
    attempt("client id None on send", lambda: appengine.send_message(None, "x"))
    attempt("client id 257 bytes", lambda: appengine.create_channel("x" * 257))
    attempt("client id 129 two-byte chars", lambda: appengine.create_channel("\u00e9" * 129))
    attempt("client id 256 bytes", lambda: appengine.create_channel("\u00e9" * 128) and "ok")
    attempt("client id empty", lambda: appengine.create_channel(""))
    attempt("duration 0", lambda: appengine.create_channel(client_id, 0))
    attempt("duration 1441", lambda: appengine.create_channel(client_id, 1441))
    attempt("duration not integral", lambda: appengine.create_channel(client_id, 1.5))
    attempt("duration string", lambda: appengine.create_channel(client_id, "60"))
    attempt("duration 1", lambda: appengine.create_channel(client_id, 1) and "ok")
    attempt("duration 1440", lambda: appengine.create_channel(client_id, 1440) and "ok")
    # bool is an int: App Engine took True as 1 minute and refused False as less than 1.
    attempt("duration True", lambda: appengine.create_channel(client_id, True) and "ok")
    attempt("duration False", lambda: appengine.create_channel(client_id, False))
    with channeld_channel.Client(channel=grpc.intercept_channel(client.channel, recorder)) as recorded:
        recorded.metadata = client.metadata
        recorded.create_channel(client_id, True)
    report("duration on the wire", durationMinutes=recorder.requests[-1].duration_minutes)
    attempt("message not a string", lambda: appengine.send_message(client_id, 42))
    attempt("message 32768 bytes", lambda: appengine.send_message(client_id, "x" * 32768))
    attempt("message 32767 bytes", lambda: appengine.send_message(client_id, "x" * 32767))
    attempt("message empty", lambda: appengine.send_message(client_id, ""))
    attempt("message not UTF-8 bytes", lambda: appengine.send_message(client_id, b"\xff"))
    with channeld_channel.Client(api_key="not-the-key") as wrong_key:
        attempt("server: wrong api key", lambda: wrong_key.create_channel(client_id))
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    with channeld_channel.Client(address="127.0.0.1:1", timeout=10) as unreachable:
        attempt("server: unreachable", lambda: unreachable.send_message(client_id, "x"))
    client.close()
    report("done")


if __name__ == "__main__":
    main()
