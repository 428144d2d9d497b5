"""google.appengine.api.channel, backed by channeld.

Migrating an App Engine app means changing one import:

    from google.appengine.api import channel      # before
    import channeld_channel as channel             # after

    token = channel.create_channel(user_id, duration_minutes=60)
    channel.send_message(user_id, json.dumps({"hello": "world"}))

The functions talk to $CHANNELD_GRPC_ADDR (default 127.0.0.1:50051) with $CHANNELD_API_KEY,
read on first use; call configure() to set them in code. They raise App Engine's exceptions for
the same inputs App Engine refused.
"""

import threading
from typing import Optional, Union

import grpc

from .client import (
    DEFAULT_TIMEOUT_SECONDS,
    MAXIMUM_CLIENT_ID_LENGTH,
    MAXIMUM_MESSAGE_LENGTH,
    MAXIMUM_TOKEN_DURATION_MINUTES,
    Client,
)
from .errors import (
    AppIdAliasRequired,
    Error,
    InvalidChannelClientIdError,
    InvalidChannelTokenDurationError,
    InvalidMessageError,
)

__all__ = [
    "MAXIMUM_CLIENT_ID_LENGTH",
    "MAXIMUM_MESSAGE_LENGTH",
    "MAXIMUM_TOKEN_DURATION_MINUTES",
    "AppIdAliasRequired",
    "Client",
    "Error",
    "InvalidChannelClientIdError",
    "InvalidChannelTokenDurationError",
    "InvalidMessageError",
    "configure",
    "create_channel",
    "send_message",
]

_lock = threading.Lock()
_default: Optional[Client] = None


def configure(
    address: Optional[str] = None,
    api_key: Optional[str] = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    channel: Optional[grpc.Channel] = None,
) -> Client:
    """Sets the connection the module functions use (arguments as for Client)."""
    global _default
    client = Client(address, api_key, timeout, channel)
    with _lock:
        previous, _default = _default, client
    if previous is not None:
        previous.close()
    return client


def _client() -> Client:
    global _default
    with _lock:
        if _default is None:
            _default = Client()
        return _default


def create_channel(client_id: Union[str, bytes], duration_minutes: Optional[int] = None) -> str:
    """Creates a channel for client_id and returns the token a browser opens it with.

    Raises InvalidChannelClientIdError, InvalidChannelTokenDurationError, or Error.
    """
    return _client().create_channel(client_id, duration_minutes)


def send_message(client_id: Union[str, bytes], message: Union[str, bytes]) -> None:
    """Sends message (at most 32767 bytes) to client_id's channel.

    client_id may also be a token create_channel returned, as on App Engine; an invalid, expired
    or revoked token is taken as a client id, so the message goes nowhere, without an error.

    Raises InvalidChannelClientIdError, InvalidMessageError, or Error.
    """
    _client().send_message(client_id, message)
