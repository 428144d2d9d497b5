"""The generated stubs (gen/python), importable as `channel.v1`.

protoc writes absolute imports (`from channel.v1 import channel_pb2`), so gen/python itself must
be on sys.path. Applications normally put it there (PYTHONPATH=gen/python or a copy of it); when
they did not and this package runs from a channeld checkout, the checkout's gen/python is used.
"""

import os
import sys

try:
    from channel.v1 import channel_pb2, channel_pb2_grpc
except ImportError:
    _checkout_gen = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "gen", "python")
    if not os.path.isfile(os.path.join(_checkout_gen, "channel", "v1", "channel_pb2.py")):
        raise
    sys.path.append(os.path.normpath(_checkout_gen))
    from channel.v1 import channel_pb2, channel_pb2_grpc

__all__ = ["channel_pb2", "channel_pb2_grpc"]
