import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PresenceState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRESENCE_STATE_UNSPECIFIED: _ClassVar[PresenceState]
    PRESENCE_STATE_CONNECTED: _ClassVar[PresenceState]
    PRESENCE_STATE_DISCONNECTED: _ClassVar[PresenceState]

class PresenceReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRESENCE_REASON_UNSPECIFIED: _ClassVar[PresenceReason]
    PRESENCE_REASON_SNAPSHOT: _ClassVar[PresenceReason]
    PRESENCE_REASON_SOCKET_OPENED: _ClassVar[PresenceReason]
    PRESENCE_REASON_SOCKET_CLOSED: _ClassVar[PresenceReason]
    PRESENCE_REASON_TOKEN_EXPIRED: _ClassVar[PresenceReason]
    PRESENCE_REASON_CHANNEL_CLOSED: _ClassVar[PresenceReason]
    PRESENCE_REASON_SLOW_CONSUMER: _ClassVar[PresenceReason]
    PRESENCE_REASON_SHUTDOWN: _ClassVar[PresenceReason]
    PRESENCE_REASON_NODE_LOST: _ClassVar[PresenceReason]

class TopicPresenceKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TOPIC_PRESENCE_KIND_UNSPECIFIED: _ClassVar[TopicPresenceKind]
    TOPIC_PRESENCE_KIND_MEMBER_JOINED: _ClassVar[TopicPresenceKind]
    TOPIC_PRESENCE_KIND_MEMBER_LEFT: _ClassVar[TopicPresenceKind]
    TOPIC_PRESENCE_KIND_MEMBER_UPDATED: _ClassVar[TopicPresenceKind]
    TOPIC_PRESENCE_KIND_CONNECTED: _ClassVar[TopicPresenceKind]
    TOPIC_PRESENCE_KIND_DISCONNECTED: _ClassVar[TopicPresenceKind]

class TopicLeaveReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TOPIC_LEAVE_REASON_UNSPECIFIED: _ClassVar[TopicLeaveReason]
    TOPIC_LEAVE_REASON_UNSUBSCRIBED: _ClassVar[TopicLeaveReason]
    TOPIC_LEAVE_REASON_CHANNEL_CLOSED: _ClassVar[TopicLeaveReason]
    TOPIC_LEAVE_REASON_CHANNEL_EXPIRED: _ClassVar[TopicLeaveReason]
PRESENCE_STATE_UNSPECIFIED: PresenceState
PRESENCE_STATE_CONNECTED: PresenceState
PRESENCE_STATE_DISCONNECTED: PresenceState
PRESENCE_REASON_UNSPECIFIED: PresenceReason
PRESENCE_REASON_SNAPSHOT: PresenceReason
PRESENCE_REASON_SOCKET_OPENED: PresenceReason
PRESENCE_REASON_SOCKET_CLOSED: PresenceReason
PRESENCE_REASON_TOKEN_EXPIRED: PresenceReason
PRESENCE_REASON_CHANNEL_CLOSED: PresenceReason
PRESENCE_REASON_SLOW_CONSUMER: PresenceReason
PRESENCE_REASON_SHUTDOWN: PresenceReason
PRESENCE_REASON_NODE_LOST: PresenceReason
TOPIC_PRESENCE_KIND_UNSPECIFIED: TopicPresenceKind
TOPIC_PRESENCE_KIND_MEMBER_JOINED: TopicPresenceKind
TOPIC_PRESENCE_KIND_MEMBER_LEFT: TopicPresenceKind
TOPIC_PRESENCE_KIND_MEMBER_UPDATED: TopicPresenceKind
TOPIC_PRESENCE_KIND_CONNECTED: TopicPresenceKind
TOPIC_PRESENCE_KIND_DISCONNECTED: TopicPresenceKind
TOPIC_LEAVE_REASON_UNSPECIFIED: TopicLeaveReason
TOPIC_LEAVE_REASON_UNSUBSCRIBED: TopicLeaveReason
TOPIC_LEAVE_REASON_CHANNEL_CLOSED: TopicLeaveReason
TOPIC_LEAVE_REASON_CHANNEL_EXPIRED: TopicLeaveReason

class CreateChannelRequest(_message.Message):
    __slots__ = ("client_id", "duration_minutes")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    DURATION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    duration_minutes: int
    def __init__(self, client_id: _Optional[str] = ..., duration_minutes: _Optional[int] = ...) -> None: ...

class CreateChannelResponse(_message.Message):
    __slots__ = ("token", "expire_time", "duration_minutes")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    DURATION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    token: str
    expire_time: _timestamp_pb2.Timestamp
    duration_minutes: int
    def __init__(self, token: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration_minutes: _Optional[int] = ...) -> None: ...

class SendMessageRequest(_message.Message):
    __slots__ = ("client_id", "token", "message", "idempotency_key", "wait_for_delivery", "delivery_timeout")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    WAIT_FOR_DELIVERY_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    token: str
    message: str
    idempotency_key: str
    wait_for_delivery: bool
    delivery_timeout: _duration_pb2.Duration
    def __init__(self, client_id: _Optional[str] = ..., token: _Optional[str] = ..., message: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., wait_for_delivery: _Optional[bool] = ..., delivery_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class SendMessageResponse(_message.Message):
    __slots__ = ("seq", "epoch", "connected", "delivered")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    seq: int
    epoch: str
    connected: bool
    delivered: bool
    def __init__(self, seq: _Optional[int] = ..., epoch: _Optional[str] = ..., connected: _Optional[bool] = ..., delivered: _Optional[bool] = ...) -> None: ...

class SendMessagesRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[SendMessageRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[SendMessageRequest, _Mapping]]] = ...) -> None: ...

class SendMessagesResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SendMessageResult]
    def __init__(self, results: _Optional[_Iterable[_Union[SendMessageResult, _Mapping]]] = ...) -> None: ...

class SendMessageResult(_message.Message):
    __slots__ = ("sent", "error")
    SENT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    sent: SendMessageResponse
    error: SendMessageError
    def __init__(self, sent: _Optional[_Union[SendMessageResponse, _Mapping]] = ..., error: _Optional[_Union[SendMessageError, _Mapping]] = ...) -> None: ...

class SendMessageError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class PresenceEvent(_message.Message):
    __slots__ = ("client_id", "state", "time", "cursor", "reason")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    state: PresenceState
    time: _timestamp_pb2.Timestamp
    cursor: str
    reason: PresenceReason
    def __init__(self, client_id: _Optional[str] = ..., state: _Optional[_Union[PresenceState, str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cursor: _Optional[str] = ..., reason: _Optional[_Union[PresenceReason, str]] = ...) -> None: ...

class WatchPresenceRequest(_message.Message):
    __slots__ = ("client_ids", "client_id_prefix", "snapshot", "cursor")
    CLIENT_IDS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_PREFIX_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    client_ids: _containers.RepeatedScalarFieldContainer[str]
    client_id_prefix: str
    snapshot: bool
    cursor: str
    def __init__(self, client_ids: _Optional[_Iterable[str]] = ..., client_id_prefix: _Optional[str] = ..., snapshot: _Optional[bool] = ..., cursor: _Optional[str] = ...) -> None: ...

class WatchPresenceResponse(_message.Message):
    __slots__ = ("event", "snapshot_complete")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    event: PresenceEvent
    snapshot_complete: SnapshotComplete
    def __init__(self, event: _Optional[_Union[PresenceEvent, _Mapping]] = ..., snapshot_complete: _Optional[_Union[SnapshotComplete, _Mapping]] = ...) -> None: ...

class SnapshotComplete(_message.Message):
    __slots__ = ("cursor", "resume_failed")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    RESUME_FAILED_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    resume_failed: bool
    def __init__(self, cursor: _Optional[str] = ..., resume_failed: _Optional[bool] = ...) -> None: ...

class GetPresenceRequest(_message.Message):
    __slots__ = ("client_ids",)
    CLIENT_IDS_FIELD_NUMBER: _ClassVar[int]
    client_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, client_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetPresenceResponse(_message.Message):
    __slots__ = ("clients",)
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    clients: _containers.RepeatedCompositeFieldContainer[ClientPresence]
    def __init__(self, clients: _Optional[_Iterable[_Union[ClientPresence, _Mapping]]] = ...) -> None: ...

class ClientPresence(_message.Message):
    __slots__ = ("client_id", "connected", "connected_since")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_SINCE_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    connected: bool
    connected_since: _timestamp_pb2.Timestamp
    def __init__(self, client_id: _Optional[str] = ..., connected: _Optional[bool] = ..., connected_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CloseChannelRequest(_message.Message):
    __slots__ = ("client_id",)
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    def __init__(self, client_id: _Optional[str] = ...) -> None: ...

class CloseChannelResponse(_message.Message):
    __slots__ = ("was_connected",)
    WAS_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    was_connected: bool
    def __init__(self, was_connected: _Optional[bool] = ...) -> None: ...

class BroadcastRequest(_message.Message):
    __slots__ = ("message", "client_ids", "topics")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_IDS_FIELD_NUMBER: _ClassVar[int]
    TOPICS_FIELD_NUMBER: _ClassVar[int]
    message: str
    client_ids: _containers.RepeatedScalarFieldContainer[str]
    topics: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, message: _Optional[str] = ..., client_ids: _Optional[_Iterable[str]] = ..., topics: _Optional[_Iterable[str]] = ...) -> None: ...

class BroadcastResponse(_message.Message):
    __slots__ = ("clients", "clients_connected", "topics")
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    CLIENTS_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    TOPICS_FIELD_NUMBER: _ClassVar[int]
    clients: int
    clients_connected: int
    topics: _containers.RepeatedCompositeFieldContainer[TopicPosition]
    def __init__(self, clients: _Optional[int] = ..., clients_connected: _Optional[int] = ..., topics: _Optional[_Iterable[_Union[TopicPosition, _Mapping]]] = ...) -> None: ...

class TopicPosition(_message.Message):
    __slots__ = ("topic", "seq", "epoch", "members")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    topic: str
    seq: int
    epoch: str
    members: int
    def __init__(self, topic: _Optional[str] = ..., seq: _Optional[int] = ..., epoch: _Optional[str] = ..., members: _Optional[int] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("client_ids", "topic", "info")
    CLIENT_IDS_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    client_ids: _containers.RepeatedScalarFieldContainer[str]
    topic: str
    info: str
    def __init__(self, client_ids: _Optional[_Iterable[str]] = ..., topic: _Optional[str] = ..., info: _Optional[str] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ("added",)
    ADDED_FIELD_NUMBER: _ClassVar[int]
    added: int
    def __init__(self, added: _Optional[int] = ...) -> None: ...

class UnsubscribeRequest(_message.Message):
    __slots__ = ("client_ids", "topic")
    CLIENT_IDS_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    client_ids: _containers.RepeatedScalarFieldContainer[str]
    topic: str
    def __init__(self, client_ids: _Optional[_Iterable[str]] = ..., topic: _Optional[str] = ...) -> None: ...

class UnsubscribeResponse(_message.Message):
    __slots__ = ("removed",)
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    removed: int
    def __init__(self, removed: _Optional[int] = ...) -> None: ...

class StreamMessagesRequest(_message.Message):
    __slots__ = ("id", "request", "requests")
    ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    id: int
    request: SendMessageRequest
    requests: _containers.RepeatedCompositeFieldContainer[SendMessageRequest]
    def __init__(self, id: _Optional[int] = ..., request: _Optional[_Union[SendMessageRequest, _Mapping]] = ..., requests: _Optional[_Iterable[_Union[SendMessageRequest, _Mapping]]] = ...) -> None: ...

class StreamMessagesResponse(_message.Message):
    __slots__ = ("id", "result", "results")
    ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    id: int
    result: SendMessageResult
    results: _containers.RepeatedCompositeFieldContainer[SendMessageResult]
    def __init__(self, id: _Optional[int] = ..., result: _Optional[_Union[SendMessageResult, _Mapping]] = ..., results: _Optional[_Iterable[_Union[SendMessageResult, _Mapping]]] = ...) -> None: ...

class GetTopicMembersRequest(_message.Message):
    __slots__ = ("topic", "page_size", "page_token")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    topic: str
    page_size: int
    page_token: str
    def __init__(self, topic: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetTopicMembersResponse(_message.Message):
    __slots__ = ("members", "next_page_token")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[TopicMember]
    next_page_token: str
    def __init__(self, members: _Optional[_Iterable[_Union[TopicMember, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class TopicMember(_message.Message):
    __slots__ = ("client_id", "connected", "info")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    connected: bool
    info: str
    def __init__(self, client_id: _Optional[str] = ..., connected: _Optional[bool] = ..., info: _Optional[str] = ...) -> None: ...

class CountTopicMembersRequest(_message.Message):
    __slots__ = ("topic",)
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    topic: str
    def __init__(self, topic: _Optional[str] = ...) -> None: ...

class CountTopicMembersResponse(_message.Message):
    __slots__ = ("members",)
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    members: int
    def __init__(self, members: _Optional[int] = ...) -> None: ...

class TopicPresenceEvent(_message.Message):
    __slots__ = ("topic", "client_id", "kind", "time", "cursor", "info", "presence_reason", "leave_reason", "connected")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    PRESENCE_REASON_FIELD_NUMBER: _ClassVar[int]
    LEAVE_REASON_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    topic: str
    client_id: str
    kind: TopicPresenceKind
    time: _timestamp_pb2.Timestamp
    cursor: str
    info: str
    presence_reason: PresenceReason
    leave_reason: TopicLeaveReason
    connected: bool
    def __init__(self, topic: _Optional[str] = ..., client_id: _Optional[str] = ..., kind: _Optional[_Union[TopicPresenceKind, str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cursor: _Optional[str] = ..., info: _Optional[str] = ..., presence_reason: _Optional[_Union[PresenceReason, str]] = ..., leave_reason: _Optional[_Union[TopicLeaveReason, str]] = ..., connected: _Optional[bool] = ...) -> None: ...

class WatchTopicPresenceRequest(_message.Message):
    __slots__ = ("topic", "snapshot", "cursor")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    topic: str
    snapshot: bool
    cursor: str
    def __init__(self, topic: _Optional[str] = ..., snapshot: _Optional[bool] = ..., cursor: _Optional[str] = ...) -> None: ...

class WatchTopicPresenceResponse(_message.Message):
    __slots__ = ("event", "snapshot_complete")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    event: TopicPresenceEvent
    snapshot_complete: SnapshotComplete
    def __init__(self, event: _Optional[_Union[TopicPresenceEvent, _Mapping]] = ..., snapshot_complete: _Optional[_Union[SnapshotComplete, _Mapping]] = ...) -> None: ...

class WatchDeliveriesRequest(_message.Message):
    __slots__ = ("client_ids", "client_id_prefix", "include_topics", "cursor")
    CLIENT_IDS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_PREFIX_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_TOPICS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    client_ids: _containers.RepeatedScalarFieldContainer[str]
    client_id_prefix: str
    include_topics: bool
    cursor: str
    def __init__(self, client_ids: _Optional[_Iterable[str]] = ..., client_id_prefix: _Optional[str] = ..., include_topics: _Optional[bool] = ..., cursor: _Optional[str] = ...) -> None: ...

class WatchDeliveriesResponse(_message.Message):
    __slots__ = ("started", "event")
    STARTED_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    started: DeliveriesStarted
    event: DeliveryEvent
    def __init__(self, started: _Optional[_Union[DeliveriesStarted, _Mapping]] = ..., event: _Optional[_Union[DeliveryEvent, _Mapping]] = ...) -> None: ...

class DeliveriesStarted(_message.Message):
    __slots__ = ("cursor", "resume_failed")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    RESUME_FAILED_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    resume_failed: bool
    def __init__(self, cursor: _Optional[str] = ..., resume_failed: _Optional[bool] = ...) -> None: ...

class DeliveryEvent(_message.Message):
    __slots__ = ("client_id", "epoch", "seq", "topic", "time", "cursor")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    epoch: str
    seq: int
    topic: str
    time: _timestamp_pb2.Timestamp
    cursor: str
    def __init__(self, client_id: _Optional[str] = ..., epoch: _Optional[str] = ..., seq: _Optional[int] = ..., topic: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cursor: _Optional[str] = ...) -> None: ...

class GetDeliveryRequest(_message.Message):
    __slots__ = ("client_ids",)
    CLIENT_IDS_FIELD_NUMBER: _ClassVar[int]
    client_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, client_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetDeliveryResponse(_message.Message):
    __slots__ = ("clients",)
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    clients: _containers.RepeatedCompositeFieldContainer[ClientDelivery]
    def __init__(self, clients: _Optional[_Iterable[_Union[ClientDelivery, _Mapping]]] = ...) -> None: ...

class ClientDelivery(_message.Message):
    __slots__ = ("client_id", "epoch", "acked_seq", "last_seq", "connected")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    ACKED_SEQ_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    epoch: str
    acked_seq: int
    last_seq: int
    connected: bool
    def __init__(self, client_id: _Optional[str] = ..., epoch: _Optional[str] = ..., acked_seq: _Optional[int] = ..., last_seq: _Optional[int] = ..., connected: _Optional[bool] = ...) -> None: ...
