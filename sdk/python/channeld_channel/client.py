"""A channeld connection with App Engine's create_channel/send_message semantics."""

import os
import re
from typing import Optional, Sequence, Tuple, Union

import grpc

from ._stubs import channel_pb2, channel_pb2_grpc
from .errors import (
    InvalidChannelClientIdError,
    InvalidChannelTokenDurationError,
    InvalidMessageError,
    from_rpc_error,
)

MAXIMUM_CLIENT_ID_LENGTH = 256
MAXIMUM_TOKEN_DURATION_MINUTES = 24 * 60
MAXIMUM_MESSAGE_LENGTH = 32767

DEFAULT_ADDRESS = "127.0.0.1:50051"
DEFAULT_TIMEOUT_SECONDS = 10.0


# Every channeld token is URL-safe base64 (a version 1 token has one "." in it) of at least 128
# bits, 22 characters. A string of any other shape cannot be a token and goes to the client id
# without asking the server. The rule is loose on purpose: a copy of this module in an app keeps
# recognising the tokens of a newer server, whatever their layout.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)?")
_MIN_TOKEN_CHARS = 22


def may_be_token(address: str) -> bool:
    """Whether address has the shape of a channeld token; only the server can tell if it is one."""
    return len(address) >= _MIN_TOKEN_CHARS and _TOKEN_SHAPE.fullmatch(address) is not None


def _client_id_text(client_id: object) -> str:
    """App Engine's type check of a client id (bytes were Python 2's str: UTF-8 bytes pass)."""
    if isinstance(client_id, bytes):
        try:
            client_id = client_id.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidChannelClientIdError("Client id %r is not UTF-8." % (client_id,)) from None
    if not isinstance(client_id, str):
        raise InvalidChannelClientIdError('"%s" is not a string.' % (client_id,))
    return client_id


def validate_client_id(client_id: object) -> str:
    """App Engine's client id check: a string of at most 256 bytes of UTF-8.

    bytes are accepted too (they were Python 2's str) when they are UTF-8. An empty id passes
    here, as it did on App Engine, and is refused by the server.
    """
    client_id = _client_id_text(client_id)
    length = _utf8_length(client_id, InvalidChannelClientIdError, "Client id")
    if length > MAXIMUM_CLIENT_ID_LENGTH:
        raise InvalidChannelClientIdError(
            "Client id length %d is greater than max length %d" % (length, MAXIMUM_CLIENT_ID_LENGTH)
        )
    return client_id


def validate_duration(duration_minutes: object) -> int:
    """App Engine's duration check: None (the server's default, 120) or an integer 1 to 1440.

    Any int passes, bool and IntEnum members included (App Engine took True as 1 minute); the
    plain int goes on the wire, since protobuf refuses the subclasses.
    """
    if duration_minutes is None:
        return 0  # unset on the wire: channeld applies its default
    if not isinstance(duration_minutes, int):
        raise InvalidChannelTokenDurationError("Argument duration_minutes must be integral")
    if duration_minutes < 1:
        raise InvalidChannelTokenDurationError("Argument duration_minutes must not be less than 1")
    if duration_minutes > MAXIMUM_TOKEN_DURATION_MINUTES:
        raise InvalidChannelTokenDurationError(
            "Argument duration_minutes must be less than %d" % (MAXIMUM_TOKEN_DURATION_MINUTES + 1)
        )
    return int(duration_minutes)


def validate_message(message: object) -> str:
    """App Engine's message check: a string of at most 32767 bytes of UTF-8 (bytes if UTF-8)."""
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidMessageError("Message must be UTF-8") from None
    if not isinstance(message, str):
        raise InvalidMessageError("Message must be a string")
    if _utf8_length(message, InvalidMessageError, "Message") > MAXIMUM_MESSAGE_LENGTH:
        raise InvalidMessageError("Message must be no longer than %d chars" % MAXIMUM_MESSAGE_LENGTH)
    return message


def _utf8_length(text: str, error: type, what: str) -> int:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates cannot travel in a protobuf string
        raise error("%s is not valid Unicode text." % what) from None


def _refuses_token(err: grpc.RpcError) -> bool:
    """Whether channeld refused the token target itself: not a token of this server
    (INVALID_ARGUMENT), or one that expired or was revoked (FAILED_PRECONDITION). Its messages
    for the token field start with the field name, as every field's do."""
    if not isinstance(err, grpc.Call):
        return False
    code = err.code()
    details = err.details() or ""
    refused = code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION)
    return refused and details.startswith("token ")


class Client:
    """One gRPC connection to channeld.

    address: host:port of channeld's gRPC listener (default: $CHANNELD_GRPC_ADDR, else
    127.0.0.1:50051). api_key: sent as "authorization: Bearer <key>" (default:
    $CHANNELD_API_KEY; none when empty). channel: a grpc.Channel of your own (e.g. with TLS)
    instead of the insecure one built from address.
    """

    def __init__(
        self,
        address: Optional[str] = None,
        api_key: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        channel: Optional[grpc.Channel] = None,
    ) -> None:
        self.address = address or os.environ.get("CHANNELD_GRPC_ADDR") or DEFAULT_ADDRESS
        key = os.environ.get("CHANNELD_API_KEY", "") if api_key is None else api_key
        self.metadata: Sequence[Tuple[str, Union[str, bytes]]] = (("authorization", "Bearer " + key),) if key else ()
        self.timeout = timeout
        self.channel = channel if channel is not None else grpc.insecure_channel(self.address)
        #: The generated ChannelService stub, for RPCs App Engine did not have.
        self.stub = channel_pb2_grpc.ChannelServiceStub(self.channel)

    def create_channel(self, client_id: Union[str, bytes], duration_minutes: Optional[int] = None) -> str:
        """Mints a token for client_id, valid duration_minutes (1-1440; None: 120)."""
        request = channel_pb2.CreateChannelRequest(
            client_id=validate_client_id(client_id),
            duration_minutes=validate_duration(duration_minutes),
        )
        try:
            response = self.stub.CreateChannel(request, timeout=self.timeout, metadata=self.metadata)
        except grpc.RpcError as err:
            raise from_rpc_error(err) from err
        return response.token

    def send_message(self, client_id: Union[str, bytes], message: Union[str, bytes]) -> None:
        """Sends message to client_id's channel. Like App Engine, it does not fail when nobody
        is listening (the message waits in channeld's replay buffer for the client's socket).

        client_id may also be a token returned by create_channel, as on App Engine: a string
        that is a live token of this server addresses that token's client; any other string,
        an invalid, expired or revoked token included, is a client id (App Engine's service
        did the same, so a message to a dead token went nowhere, without an error).
        """
        address = _client_id_text(client_id)
        token_shaped = may_be_token(address)
        if not token_shaped:
            validate_client_id(address)
        text = validate_message(message)
        if token_shaped:
            # Only the server can tell a token from a client id of the same shape: ask it.
            try:
                self._send(channel_pb2.SendMessageRequest(token=address, message=text))
                return
            except grpc.RpcError as err:
                if not _refuses_token(err):
                    raise from_rpc_error(err) from err
            validate_client_id(address)
        try:
            self._send(channel_pb2.SendMessageRequest(client_id=address, message=text))
        except grpc.RpcError as err:
            raise from_rpc_error(err) from err

    def _send(self, request: "channel_pb2.SendMessageRequest") -> None:
        self.stub.SendMessage(request, timeout=self.timeout, metadata=self.metadata)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
