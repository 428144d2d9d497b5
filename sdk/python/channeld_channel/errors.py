"""App Engine's Channel API exceptions, and the one mapping from gRPC status to them."""

from typing import Optional

import grpc


class Error(Exception):
    """Base error class for this module (as in google.appengine.api.channel).

    `code` is the gRPC status code when channeld refused the call or could not be reached, and
    None when the input was rejected before any call.
    """

    code: Optional[grpc.StatusCode] = None


class InvalidChannelClientIdError(Error):
    """Error that indicates a bad client id."""


class InvalidChannelTokenDurationError(Error):
    """Error that indicates the requested duration is invalid."""


class InvalidMessageError(Error):
    """Error that indicates a message is malformed."""


class AppIdAliasRequired(Error):
    """Error that indicates you must assign an application alias to your app.

    App Engine raised it for apps without an alias; channeld has no such requirement and never
    raises it. It is here so that `except channel.AppIdAliasRequired:` clauses keep working.
    """


# channeld's INVALID_ARGUMENT details start with the field name ("message is 40000 bytes; ...").
_FIELD_ERRORS = {
    "client_id": InvalidChannelClientIdError,
    "token": InvalidChannelClientIdError,
    "duration_minutes": InvalidChannelTokenDurationError,
    "message": InvalidMessageError,
}


def from_rpc_error(err: grpc.RpcError) -> Error:
    """The exception App Engine would have raised for a failed channeld call.

    Bad input the server caught maps to the matching Invalid*Error; anything else (bad API key,
    server unreachable, deadline) is a plain Error whose `code` says what happened.
    """
    code = err.code() if isinstance(err, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = (err.details() if isinstance(err, grpc.Call) else None) or str(code)
    cls = Error
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        cls = _FIELD_ERRORS.get(details.split(" ", 1)[0], Error)
    error = cls(details)
    error.code = code
    return error
