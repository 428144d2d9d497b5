package channel.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * ChannelService is how backends talk to channeld: mint tokens for browser clients, push messages to
 * them and watch them come and go. It re-creates Google App Engine's Channel API.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class ChannelServiceGrpc {

  private ChannelServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "channel.v1.ChannelService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<channel.v1.Channel.CreateChannelRequest,
      channel.v1.Channel.CreateChannelResponse> getCreateChannelMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateChannel",
      requestType = channel.v1.Channel.CreateChannelRequest.class,
      responseType = channel.v1.Channel.CreateChannelResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<channel.v1.Channel.CreateChannelRequest,
      channel.v1.Channel.CreateChannelResponse> getCreateChannelMethod() {
    io.grpc.MethodDescriptor<channel.v1.Channel.CreateChannelRequest, channel.v1.Channel.CreateChannelResponse> getCreateChannelMethod;
    if ((getCreateChannelMethod = ChannelServiceGrpc.getCreateChannelMethod) == null) {
      synchronized (ChannelServiceGrpc.class) {
        if ((getCreateChannelMethod = ChannelServiceGrpc.getCreateChannelMethod) == null) {
          ChannelServiceGrpc.getCreateChannelMethod = getCreateChannelMethod =
              io.grpc.MethodDescriptor.<channel.v1.Channel.CreateChannelRequest, channel.v1.Channel.CreateChannelResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateChannel"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.CreateChannelRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.CreateChannelResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChannelServiceMethodDescriptorSupplier("CreateChannel"))
              .build();
        }
      }
    }
    return getCreateChannelMethod;
  }

  private static volatile io.grpc.MethodDescriptor<channel.v1.Channel.SendMessageRequest,
      channel.v1.Channel.SendMessageResponse> getSendMessageMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SendMessage",
      requestType = channel.v1.Channel.SendMessageRequest.class,
      responseType = channel.v1.Channel.SendMessageResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<channel.v1.Channel.SendMessageRequest,
      channel.v1.Channel.SendMessageResponse> getSendMessageMethod() {
    io.grpc.MethodDescriptor<channel.v1.Channel.SendMessageRequest, channel.v1.Channel.SendMessageResponse> getSendMessageMethod;
    if ((getSendMessageMethod = ChannelServiceGrpc.getSendMessageMethod) == null) {
      synchronized (ChannelServiceGrpc.class) {
        if ((getSendMessageMethod = ChannelServiceGrpc.getSendMessageMethod) == null) {
          ChannelServiceGrpc.getSendMessageMethod = getSendMessageMethod =
              io.grpc.MethodDescriptor.<channel.v1.Channel.SendMessageRequest, channel.v1.Channel.SendMessageResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SendMessage"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.SendMessageRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.SendMessageResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChannelServiceMethodDescriptorSupplier("SendMessage"))
              .build();
        }
      }
    }
    return getSendMessageMethod;
  }

  private static volatile io.grpc.MethodDescriptor<channel.v1.Channel.SendMessagesRequest,
      channel.v1.Channel.SendMessagesResponse> getSendMessagesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SendMessages",
      requestType = channel.v1.Channel.SendMessagesRequest.class,
      responseType = channel.v1.Channel.SendMessagesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<channel.v1.Channel.SendMessagesRequest,
      channel.v1.Channel.SendMessagesResponse> getSendMessagesMethod() {
    io.grpc.MethodDescriptor<channel.v1.Channel.SendMessagesRequest, channel.v1.Channel.SendMessagesResponse> getSendMessagesMethod;
    if ((getSendMessagesMethod = ChannelServiceGrpc.getSendMessagesMethod) == null) {
      synchronized (ChannelServiceGrpc.class) {
        if ((getSendMessagesMethod = ChannelServiceGrpc.getSendMessagesMethod) == null) {
          ChannelServiceGrpc.getSendMessagesMethod = getSendMessagesMethod =
              io.grpc.MethodDescriptor.<channel.v1.Channel.SendMessagesRequest, channel.v1.Channel.SendMessagesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SendMessages"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.SendMessagesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.SendMessagesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChannelServiceMethodDescriptorSupplier("SendMessages"))
              .build();
        }
      }
    }
    return getSendMessagesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<channel.v1.Channel.WatchPresenceRequest,
      channel.v1.Channel.WatchPresenceResponse> getWatchPresenceMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WatchPresence",
      requestType = channel.v1.Channel.WatchPresenceRequest.class,
      responseType = channel.v1.Channel.WatchPresenceResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<channel.v1.Channel.WatchPresenceRequest,
      channel.v1.Channel.WatchPresenceResponse> getWatchPresenceMethod() {
    io.grpc.MethodDescriptor<channel.v1.Channel.WatchPresenceRequest, channel.v1.Channel.WatchPresenceResponse> getWatchPresenceMethod;
    if ((getWatchPresenceMethod = ChannelServiceGrpc.getWatchPresenceMethod) == null) {
      synchronized (ChannelServiceGrpc.class) {
        if ((getWatchPresenceMethod = ChannelServiceGrpc.getWatchPresenceMethod) == null) {
          ChannelServiceGrpc.getWatchPresenceMethod = getWatchPresenceMethod =
              io.grpc.MethodDescriptor.<channel.v1.Channel.WatchPresenceRequest, channel.v1.Channel.WatchPresenceResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WatchPresence"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.WatchPresenceRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.WatchPresenceResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChannelServiceMethodDescriptorSupplier("WatchPresence"))
              .build();
        }
      }
    }
    return getWatchPresenceMethod;
  }

  private static volatile io.grpc.MethodDescriptor<channel.v1.Channel.GetPresenceRequest,
      channel.v1.Channel.GetPresenceResponse> getGetPresenceMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetPresence",
      requestType = channel.v1.Channel.GetPresenceRequest.class,
      responseType = channel.v1.Channel.GetPresenceResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<channel.v1.Channel.GetPresenceRequest,
      channel.v1.Channel.GetPresenceResponse> getGetPresenceMethod() {
    io.grpc.MethodDescriptor<channel.v1.Channel.GetPresenceRequest, channel.v1.Channel.GetPresenceResponse> getGetPresenceMethod;
    if ((getGetPresenceMethod = ChannelServiceGrpc.getGetPresenceMethod) == null) {
      synchronized (ChannelServiceGrpc.class) {
        if ((getGetPresenceMethod = ChannelServiceGrpc.getGetPresenceMethod) == null) {
          ChannelServiceGrpc.getGetPresenceMethod = getGetPresenceMethod =
              io.grpc.MethodDescriptor.<channel.v1.Channel.GetPresenceRequest, channel.v1.Channel.GetPresenceResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetPresence"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.GetPresenceRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.GetPresenceResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChannelServiceMethodDescriptorSupplier("GetPresence"))
              .build();
        }
      }
    }
    return getGetPresenceMethod;
  }

  private static volatile io.grpc.MethodDescriptor<channel.v1.Channel.CloseChannelRequest,
      channel.v1.Channel.CloseChannelResponse> getCloseChannelMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CloseChannel",
      requestType = channel.v1.Channel.CloseChannelRequest.class,
      responseType = channel.v1.Channel.CloseChannelResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<channel.v1.Channel.CloseChannelRequest,
      channel.v1.Channel.CloseChannelResponse> getCloseChannelMethod() {
    io.grpc.MethodDescriptor<channel.v1.Channel.CloseChannelRequest, channel.v1.Channel.CloseChannelResponse> getCloseChannelMethod;
    if ((getCloseChannelMethod = ChannelServiceGrpc.getCloseChannelMethod) == null) {
      synchronized (ChannelServiceGrpc.class) {
        if ((getCloseChannelMethod = ChannelServiceGrpc.getCloseChannelMethod) == null) {
          ChannelServiceGrpc.getCloseChannelMethod = getCloseChannelMethod =
              io.grpc.MethodDescriptor.<channel.v1.Channel.CloseChannelRequest, channel.v1.Channel.CloseChannelResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CloseChannel"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.CloseChannelRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.CloseChannelResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChannelServiceMethodDescriptorSupplier("CloseChannel"))
              .build();
        }
      }
    }
    return getCloseChannelMethod;
  }

  private static volatile io.grpc.MethodDescriptor<channel.v1.Channel.BroadcastRequest,
      channel.v1.Channel.BroadcastResponse> getBroadcastMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Broadcast",
      requestType = channel.v1.Channel.BroadcastRequest.class,
      responseType = channel.v1.Channel.BroadcastResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<channel.v1.Channel.BroadcastRequest,
      channel.v1.Channel.BroadcastResponse> getBroadcastMethod() {
    io.grpc.MethodDescriptor<channel.v1.Channel.BroadcastRequest, channel.v1.Channel.BroadcastResponse> getBroadcastMethod;
    if ((getBroadcastMethod = ChannelServiceGrpc.getBroadcastMethod) == null) {
      synchronized (ChannelServiceGrpc.class) {
        if ((getBroadcastMethod = ChannelServiceGrpc.getBroadcastMethod) == null) {
          ChannelServiceGrpc.getBroadcastMethod = getBroadcastMethod =
              io.grpc.MethodDescriptor.<channel.v1.Channel.BroadcastRequest, channel.v1.Channel.BroadcastResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Broadcast"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.BroadcastRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.BroadcastResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChannelServiceMethodDescriptorSupplier("Broadcast"))
              .build();
        }
      }
    }
    return getBroadcastMethod;
  }

  private static volatile io.grpc.MethodDescriptor<channel.v1.Channel.SubscribeRequest,
      channel.v1.Channel.SubscribeResponse> getSubscribeMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Subscribe",
      requestType = channel.v1.Channel.SubscribeRequest.class,
      responseType = channel.v1.Channel.SubscribeResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<channel.v1.Channel.SubscribeRequest,
      channel.v1.Channel.SubscribeResponse> getSubscribeMethod() {
    io.grpc.MethodDescriptor<channel.v1.Channel.SubscribeRequest, channel.v1.Channel.SubscribeResponse> getSubscribeMethod;
    if ((getSubscribeMethod = ChannelServiceGrpc.getSubscribeMethod) == null) {
      synchronized (ChannelServiceGrpc.class) {
        if ((getSubscribeMethod = ChannelServiceGrpc.getSubscribeMethod) == null) {
          ChannelServiceGrpc.getSubscribeMethod = getSubscribeMethod =
              io.grpc.MethodDescriptor.<channel.v1.Channel.SubscribeRequest, channel.v1.Channel.SubscribeResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Subscribe"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.SubscribeRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.SubscribeResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChannelServiceMethodDescriptorSupplier("Subscribe"))
              .build();
        }
      }
    }
    return getSubscribeMethod;
  }

  private static volatile io.grpc.MethodDescriptor<channel.v1.Channel.UnsubscribeRequest,
      channel.v1.Channel.UnsubscribeResponse> getUnsubscribeMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Unsubscribe",
      requestType = channel.v1.Channel.UnsubscribeRequest.class,
      responseType = channel.v1.Channel.UnsubscribeResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<channel.v1.Channel.UnsubscribeRequest,
      channel.v1.Channel.UnsubscribeResponse> getUnsubscribeMethod() {
    io.grpc.MethodDescriptor<channel.v1.Channel.UnsubscribeRequest, channel.v1.Channel.UnsubscribeResponse> getUnsubscribeMethod;
    if ((getUnsubscribeMethod = ChannelServiceGrpc.getUnsubscribeMethod) == null) {
      synchronized (ChannelServiceGrpc.class) {
        if ((getUnsubscribeMethod = ChannelServiceGrpc.getUnsubscribeMethod) == null) {
          ChannelServiceGrpc.getUnsubscribeMethod = getUnsubscribeMethod =
              io.grpc.MethodDescriptor.<channel.v1.Channel.UnsubscribeRequest, channel.v1.Channel.UnsubscribeResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Unsubscribe"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.UnsubscribeRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.UnsubscribeResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChannelServiceMethodDescriptorSupplier("Unsubscribe"))
              .build();
        }
      }
    }
    return getUnsubscribeMethod;
  }

  private static volatile io.grpc.MethodDescriptor<channel.v1.Channel.StreamMessagesRequest,
      channel.v1.Channel.StreamMessagesResponse> getStreamMessagesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "StreamMessages",
      requestType = channel.v1.Channel.StreamMessagesRequest.class,
      responseType = channel.v1.Channel.StreamMessagesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
  public static io.grpc.MethodDescriptor<channel.v1.Channel.StreamMessagesRequest,
      channel.v1.Channel.StreamMessagesResponse> getStreamMessagesMethod() {
    io.grpc.MethodDescriptor<channel.v1.Channel.StreamMessagesRequest, channel.v1.Channel.StreamMessagesResponse> getStreamMessagesMethod;
    if ((getStreamMessagesMethod = ChannelServiceGrpc.getStreamMessagesMethod) == null) {
      synchronized (ChannelServiceGrpc.class) {
        if ((getStreamMessagesMethod = ChannelServiceGrpc.getStreamMessagesMethod) == null) {
          ChannelServiceGrpc.getStreamMessagesMethod = getStreamMessagesMethod =
              io.grpc.MethodDescriptor.<channel.v1.Channel.StreamMessagesRequest, channel.v1.Channel.StreamMessagesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "StreamMessages"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.StreamMessagesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.StreamMessagesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChannelServiceMethodDescriptorSupplier("StreamMessages"))
              .build();
        }
      }
    }
    return getStreamMessagesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<channel.v1.Channel.GetTopicMembersRequest,
      channel.v1.Channel.GetTopicMembersResponse> getGetTopicMembersMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetTopicMembers",
      requestType = channel.v1.Channel.GetTopicMembersRequest.class,
      responseType = channel.v1.Channel.GetTopicMembersResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<channel.v1.Channel.GetTopicMembersRequest,
      channel.v1.Channel.GetTopicMembersResponse> getGetTopicMembersMethod() {
    io.grpc.MethodDescriptor<channel.v1.Channel.GetTopicMembersRequest, channel.v1.Channel.GetTopicMembersResponse> getGetTopicMembersMethod;
    if ((getGetTopicMembersMethod = ChannelServiceGrpc.getGetTopicMembersMethod) == null) {
      synchronized (ChannelServiceGrpc.class) {
        if ((getGetTopicMembersMethod = ChannelServiceGrpc.getGetTopicMembersMethod) == null) {
          ChannelServiceGrpc.getGetTopicMembersMethod = getGetTopicMembersMethod =
              io.grpc.MethodDescriptor.<channel.v1.Channel.GetTopicMembersRequest, channel.v1.Channel.GetTopicMembersResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetTopicMembers"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.GetTopicMembersRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.GetTopicMembersResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChannelServiceMethodDescriptorSupplier("GetTopicMembers"))
              .build();
        }
      }
    }
    return getGetTopicMembersMethod;
  }

  private static volatile io.grpc.MethodDescriptor<channel.v1.Channel.CountTopicMembersRequest,
      channel.v1.Channel.CountTopicMembersResponse> getCountTopicMembersMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CountTopicMembers",
      requestType = channel.v1.Channel.CountTopicMembersRequest.class,
      responseType = channel.v1.Channel.CountTopicMembersResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<channel.v1.Channel.CountTopicMembersRequest,
      channel.v1.Channel.CountTopicMembersResponse> getCountTopicMembersMethod() {
    io.grpc.MethodDescriptor<channel.v1.Channel.CountTopicMembersRequest, channel.v1.Channel.CountTopicMembersResponse> getCountTopicMembersMethod;
    if ((getCountTopicMembersMethod = ChannelServiceGrpc.getCountTopicMembersMethod) == null) {
      synchronized (ChannelServiceGrpc.class) {
        if ((getCountTopicMembersMethod = ChannelServiceGrpc.getCountTopicMembersMethod) == null) {
          ChannelServiceGrpc.getCountTopicMembersMethod = getCountTopicMembersMethod =
              io.grpc.MethodDescriptor.<channel.v1.Channel.CountTopicMembersRequest, channel.v1.Channel.CountTopicMembersResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CountTopicMembers"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.CountTopicMembersRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.CountTopicMembersResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChannelServiceMethodDescriptorSupplier("CountTopicMembers"))
              .build();
        }
      }
    }
    return getCountTopicMembersMethod;
  }

  private static volatile io.grpc.MethodDescriptor<channel.v1.Channel.WatchTopicPresenceRequest,
      channel.v1.Channel.WatchTopicPresenceResponse> getWatchTopicPresenceMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WatchTopicPresence",
      requestType = channel.v1.Channel.WatchTopicPresenceRequest.class,
      responseType = channel.v1.Channel.WatchTopicPresenceResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<channel.v1.Channel.WatchTopicPresenceRequest,
      channel.v1.Channel.WatchTopicPresenceResponse> getWatchTopicPresenceMethod() {
    io.grpc.MethodDescriptor<channel.v1.Channel.WatchTopicPresenceRequest, channel.v1.Channel.WatchTopicPresenceResponse> getWatchTopicPresenceMethod;
    if ((getWatchTopicPresenceMethod = ChannelServiceGrpc.getWatchTopicPresenceMethod) == null) {
      synchronized (ChannelServiceGrpc.class) {
        if ((getWatchTopicPresenceMethod = ChannelServiceGrpc.getWatchTopicPresenceMethod) == null) {
          ChannelServiceGrpc.getWatchTopicPresenceMethod = getWatchTopicPresenceMethod =
              io.grpc.MethodDescriptor.<channel.v1.Channel.WatchTopicPresenceRequest, channel.v1.Channel.WatchTopicPresenceResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WatchTopicPresence"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.WatchTopicPresenceRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.WatchTopicPresenceResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChannelServiceMethodDescriptorSupplier("WatchTopicPresence"))
              .build();
        }
      }
    }
    return getWatchTopicPresenceMethod;
  }

  private static volatile io.grpc.MethodDescriptor<channel.v1.Channel.WatchDeliveriesRequest,
      channel.v1.Channel.WatchDeliveriesResponse> getWatchDeliveriesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WatchDeliveries",
      requestType = channel.v1.Channel.WatchDeliveriesRequest.class,
      responseType = channel.v1.Channel.WatchDeliveriesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<channel.v1.Channel.WatchDeliveriesRequest,
      channel.v1.Channel.WatchDeliveriesResponse> getWatchDeliveriesMethod() {
    io.grpc.MethodDescriptor<channel.v1.Channel.WatchDeliveriesRequest, channel.v1.Channel.WatchDeliveriesResponse> getWatchDeliveriesMethod;
    if ((getWatchDeliveriesMethod = ChannelServiceGrpc.getWatchDeliveriesMethod) == null) {
      synchronized (ChannelServiceGrpc.class) {
        if ((getWatchDeliveriesMethod = ChannelServiceGrpc.getWatchDeliveriesMethod) == null) {
          ChannelServiceGrpc.getWatchDeliveriesMethod = getWatchDeliveriesMethod =
              io.grpc.MethodDescriptor.<channel.v1.Channel.WatchDeliveriesRequest, channel.v1.Channel.WatchDeliveriesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WatchDeliveries"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.WatchDeliveriesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.WatchDeliveriesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChannelServiceMethodDescriptorSupplier("WatchDeliveries"))
              .build();
        }
      }
    }
    return getWatchDeliveriesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<channel.v1.Channel.GetDeliveryRequest,
      channel.v1.Channel.GetDeliveryResponse> getGetDeliveryMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetDelivery",
      requestType = channel.v1.Channel.GetDeliveryRequest.class,
      responseType = channel.v1.Channel.GetDeliveryResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<channel.v1.Channel.GetDeliveryRequest,
      channel.v1.Channel.GetDeliveryResponse> getGetDeliveryMethod() {
    io.grpc.MethodDescriptor<channel.v1.Channel.GetDeliveryRequest, channel.v1.Channel.GetDeliveryResponse> getGetDeliveryMethod;
    if ((getGetDeliveryMethod = ChannelServiceGrpc.getGetDeliveryMethod) == null) {
      synchronized (ChannelServiceGrpc.class) {
        if ((getGetDeliveryMethod = ChannelServiceGrpc.getGetDeliveryMethod) == null) {
          ChannelServiceGrpc.getGetDeliveryMethod = getGetDeliveryMethod =
              io.grpc.MethodDescriptor.<channel.v1.Channel.GetDeliveryRequest, channel.v1.Channel.GetDeliveryResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetDelivery"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.GetDeliveryRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  channel.v1.Channel.GetDeliveryResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChannelServiceMethodDescriptorSupplier("GetDelivery"))
              .build();
        }
      }
    }
    return getGetDeliveryMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static ChannelServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ChannelServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ChannelServiceStub>() {
        @java.lang.Override
        public ChannelServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ChannelServiceStub(channel, callOptions);
        }
      };
    return ChannelServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static ChannelServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ChannelServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ChannelServiceBlockingV2Stub>() {
        @java.lang.Override
        public ChannelServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ChannelServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return ChannelServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static ChannelServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ChannelServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ChannelServiceBlockingStub>() {
        @java.lang.Override
        public ChannelServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ChannelServiceBlockingStub(channel, callOptions);
        }
      };
    return ChannelServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static ChannelServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ChannelServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ChannelServiceFutureStub>() {
        @java.lang.Override
        public ChannelServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ChannelServiceFutureStub(channel, callOptions);
        }
      };
    return ChannelServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * ChannelService is how backends talk to channeld: mint tokens for browser clients, push messages to
   * them and watch them come and go. It re-creates Google App Engine's Channel API.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * CreateChannel mints a new, independent token for a client id. A browser opens sockets with it
     * until it expires.
     * </pre>
     */
    default void createChannel(channel.v1.Channel.CreateChannelRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.CreateChannelResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateChannelMethod(), responseObserver);
    }

    /**
     * <pre>
     * SendMessage appends a message to the client's channel and pushes it to the client's socket. It
     * never fails because nobody is listening: `connected` says whether a socket was open, and the
     * message waits in the replay buffer for the next one.
     * </pre>
     */
    default void sendMessage(channel.v1.Channel.SendMessageRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.SendMessageResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSendMessageMethod(), responseObserver);
    }

    /**
     * <pre>
     * SendMessages sends many messages in one call; one bad item does not fail the others.
     * </pre>
     */
    default void sendMessages(channel.v1.Channel.SendMessagesRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.SendMessagesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSendMessagesMethod(), responseObserver);
    }

    /**
     * <pre>
     * WatchPresence streams CONNECTED/DISCONNECTED events: optionally a snapshot of who is connected
     * now, then every change as it happens, in order per client id.
     * </pre>
     */
    default void watchPresence(channel.v1.Channel.WatchPresenceRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.WatchPresenceResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWatchPresenceMethod(), responseObserver);
    }

    /**
     * <pre>
     * GetPresence says, for each client id, whether a socket is open now.
     * </pre>
     */
    default void getPresence(channel.v1.Channel.GetPresenceRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.GetPresenceResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetPresenceMethod(), responseObserver);
    }

    /**
     * <pre>
     * CloseChannel revokes every token minted so far for a client id and closes its socket.
     * </pre>
     */
    default void closeChannel(channel.v1.Channel.CloseChannelRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.CloseChannelResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCloseChannelMethod(), responseObserver);
    }

    /**
     * <pre>
     * Broadcast sends one message to many client ids and/or topics. It is encoded once; topic
     * messages reach every subscribed socket through the gateway's native pub/sub.
     * </pre>
     */
    default void broadcast(channel.v1.Channel.BroadcastRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.BroadcastResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getBroadcastMethod(), responseObserver);
    }

    /**
     * <pre>
     * Subscribe makes client ids members of a topic. Membership lives on the server (it survives
     * reconnects); a member's socket receives every message broadcast to the topic.
     * </pre>
     */
    default void subscribe(channel.v1.Channel.SubscribeRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.SubscribeResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSubscribeMethod(), responseObserver);
    }

    /**
     * <pre>
     * Unsubscribe ends topic memberships.
     * </pre>
     */
    default void unsubscribe(channel.v1.Channel.UnsubscribeRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.UnsubscribeResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUnsubscribeMethod(), responseObserver);
    }

    /**
     * <pre>
     * StreamMessages is SendMessage for firehose backends: a stream of requests, each answered by
     * one response carrying the request's id, in order; a request may carry one message or a batch.
     * Flow control is HTTP/2's: a backend that writes faster than channeld sends is slowed down
     * rather than buffered without bound.
     * </pre>
     */
    default io.grpc.stub.StreamObserver<channel.v1.Channel.StreamMessagesRequest> streamMessages(
        io.grpc.stub.StreamObserver<channel.v1.Channel.StreamMessagesResponse> responseObserver) {
      return io.grpc.stub.ServerCalls.asyncUnimplementedStreamingCall(getStreamMessagesMethod(), responseObserver);
    }

    /**
     * <pre>
     * GetTopicMembers lists a topic's member client ids, ordered by client id, a page at a time,
     * each with whether it is connected now and the info its Subscribe set.
     * </pre>
     */
    default void getTopicMembers(channel.v1.Channel.GetTopicMembersRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.GetTopicMembersResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetTopicMembersMethod(), responseObserver);
    }

    /**
     * <pre>
     * CountTopicMembers says how many client ids are members of a topic (constant time).
     * </pre>
     */
    default void countTopicMembers(channel.v1.Channel.CountTopicMembersRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.CountTopicMembersResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCountTopicMembersMethod(), responseObserver);
    }

    /**
     * <pre>
     * WatchTopicPresence streams a topic's membership changes (joined, left, info updated) and the
     * connects and disconnects of its members: optionally a snapshot of the members first, then
     * every change as it happens; resumable from a cursor like WatchPresence.
     * </pre>
     */
    default void watchTopicPresence(channel.v1.Channel.WatchTopicPresenceRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.WatchTopicPresenceResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWatchTopicPresenceMethod(), responseObserver);
    }

    /**
     * <pre>
     * WatchDeliveries streams delivery receipts: for each client id, the highest seq its browser has
     * acknowledged, coalesced to at most one event per client id per receipt interval; topic
     * acknowledgements too when asked. Resumable with the cursor of the last event received.
     * </pre>
     */
    default void watchDeliveries(channel.v1.Channel.WatchDeliveriesRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.WatchDeliveriesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWatchDeliveriesMethod(), responseObserver);
    }

    /**
     * <pre>
     * GetDelivery says, for each client id, the last seq its browser acknowledged and the channel's
     * last seq.
     * </pre>
     */
    default void getDelivery(channel.v1.Channel.GetDeliveryRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.GetDeliveryResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetDeliveryMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service ChannelService.
   * <pre>
   * ChannelService is how backends talk to channeld: mint tokens for browser clients, push messages to
   * them and watch them come and go. It re-creates Google App Engine's Channel API.
   * </pre>
   */
  public static abstract class ChannelServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return ChannelServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service ChannelService.
   * <pre>
   * ChannelService is how backends talk to channeld: mint tokens for browser clients, push messages to
   * them and watch them come and go. It re-creates Google App Engine's Channel API.
   * </pre>
   */
  public static final class ChannelServiceStub
      extends io.grpc.stub.AbstractAsyncStub<ChannelServiceStub> {
    private ChannelServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ChannelServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ChannelServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * CreateChannel mints a new, independent token for a client id. A browser opens sockets with it
     * until it expires.
     * </pre>
     */
    public void createChannel(channel.v1.Channel.CreateChannelRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.CreateChannelResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateChannelMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * SendMessage appends a message to the client's channel and pushes it to the client's socket. It
     * never fails because nobody is listening: `connected` says whether a socket was open, and the
     * message waits in the replay buffer for the next one.
     * </pre>
     */
    public void sendMessage(channel.v1.Channel.SendMessageRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.SendMessageResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSendMessageMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * SendMessages sends many messages in one call; one bad item does not fail the others.
     * </pre>
     */
    public void sendMessages(channel.v1.Channel.SendMessagesRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.SendMessagesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSendMessagesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * WatchPresence streams CONNECTED/DISCONNECTED events: optionally a snapshot of who is connected
     * now, then every change as it happens, in order per client id.
     * </pre>
     */
    public void watchPresence(channel.v1.Channel.WatchPresenceRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.WatchPresenceResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getWatchPresenceMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * GetPresence says, for each client id, whether a socket is open now.
     * </pre>
     */
    public void getPresence(channel.v1.Channel.GetPresenceRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.GetPresenceResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetPresenceMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * CloseChannel revokes every token minted so far for a client id and closes its socket.
     * </pre>
     */
    public void closeChannel(channel.v1.Channel.CloseChannelRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.CloseChannelResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCloseChannelMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Broadcast sends one message to many client ids and/or topics. It is encoded once; topic
     * messages reach every subscribed socket through the gateway's native pub/sub.
     * </pre>
     */
    public void broadcast(channel.v1.Channel.BroadcastRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.BroadcastResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getBroadcastMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Subscribe makes client ids members of a topic. Membership lives on the server (it survives
     * reconnects); a member's socket receives every message broadcast to the topic.
     * </pre>
     */
    public void subscribe(channel.v1.Channel.SubscribeRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.SubscribeResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSubscribeMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Unsubscribe ends topic memberships.
     * </pre>
     */
    public void unsubscribe(channel.v1.Channel.UnsubscribeRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.UnsubscribeResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUnsubscribeMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * StreamMessages is SendMessage for firehose backends: a stream of requests, each answered by
     * one response carrying the request's id, in order; a request may carry one message or a batch.
     * Flow control is HTTP/2's: a backend that writes faster than channeld sends is slowed down
     * rather than buffered without bound.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<channel.v1.Channel.StreamMessagesRequest> streamMessages(
        io.grpc.stub.StreamObserver<channel.v1.Channel.StreamMessagesResponse> responseObserver) {
      return io.grpc.stub.ClientCalls.asyncBidiStreamingCall(
          getChannel().newCall(getStreamMessagesMethod(), getCallOptions()), responseObserver);
    }

    /**
     * <pre>
     * GetTopicMembers lists a topic's member client ids, ordered by client id, a page at a time,
     * each with whether it is connected now and the info its Subscribe set.
     * </pre>
     */
    public void getTopicMembers(channel.v1.Channel.GetTopicMembersRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.GetTopicMembersResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetTopicMembersMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * CountTopicMembers says how many client ids are members of a topic (constant time).
     * </pre>
     */
    public void countTopicMembers(channel.v1.Channel.CountTopicMembersRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.CountTopicMembersResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCountTopicMembersMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * WatchTopicPresence streams a topic's membership changes (joined, left, info updated) and the
     * connects and disconnects of its members: optionally a snapshot of the members first, then
     * every change as it happens; resumable from a cursor like WatchPresence.
     * </pre>
     */
    public void watchTopicPresence(channel.v1.Channel.WatchTopicPresenceRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.WatchTopicPresenceResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getWatchTopicPresenceMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * WatchDeliveries streams delivery receipts: for each client id, the highest seq its browser has
     * acknowledged, coalesced to at most one event per client id per receipt interval; topic
     * acknowledgements too when asked. Resumable with the cursor of the last event received.
     * </pre>
     */
    public void watchDeliveries(channel.v1.Channel.WatchDeliveriesRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.WatchDeliveriesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getWatchDeliveriesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * GetDelivery says, for each client id, the last seq its browser acknowledged and the channel's
     * last seq.
     * </pre>
     */
    public void getDelivery(channel.v1.Channel.GetDeliveryRequest request,
        io.grpc.stub.StreamObserver<channel.v1.Channel.GetDeliveryResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetDeliveryMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service ChannelService.
   * <pre>
   * ChannelService is how backends talk to channeld: mint tokens for browser clients, push messages to
   * them and watch them come and go. It re-creates Google App Engine's Channel API.
   * </pre>
   */
  public static final class ChannelServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<ChannelServiceBlockingV2Stub> {
    private ChannelServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ChannelServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ChannelServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * CreateChannel mints a new, independent token for a client id. A browser opens sockets with it
     * until it expires.
     * </pre>
     */
    public channel.v1.Channel.CreateChannelResponse createChannel(channel.v1.Channel.CreateChannelRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCreateChannelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * SendMessage appends a message to the client's channel and pushes it to the client's socket. It
     * never fails because nobody is listening: `connected` says whether a socket was open, and the
     * message waits in the replay buffer for the next one.
     * </pre>
     */
    public channel.v1.Channel.SendMessageResponse sendMessage(channel.v1.Channel.SendMessageRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getSendMessageMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * SendMessages sends many messages in one call; one bad item does not fail the others.
     * </pre>
     */
    public channel.v1.Channel.SendMessagesResponse sendMessages(channel.v1.Channel.SendMessagesRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getSendMessagesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * WatchPresence streams CONNECTED/DISCONNECTED events: optionally a snapshot of who is connected
     * now, then every change as it happens, in order per client id.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, channel.v1.Channel.WatchPresenceResponse>
        watchPresence(channel.v1.Channel.WatchPresenceRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getWatchPresenceMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * GetPresence says, for each client id, whether a socket is open now.
     * </pre>
     */
    public channel.v1.Channel.GetPresenceResponse getPresence(channel.v1.Channel.GetPresenceRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetPresenceMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * CloseChannel revokes every token minted so far for a client id and closes its socket.
     * </pre>
     */
    public channel.v1.Channel.CloseChannelResponse closeChannel(channel.v1.Channel.CloseChannelRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCloseChannelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Broadcast sends one message to many client ids and/or topics. It is encoded once; topic
     * messages reach every subscribed socket through the gateway's native pub/sub.
     * </pre>
     */
    public channel.v1.Channel.BroadcastResponse broadcast(channel.v1.Channel.BroadcastRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getBroadcastMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Subscribe makes client ids members of a topic. Membership lives on the server (it survives
     * reconnects); a member's socket receives every message broadcast to the topic.
     * </pre>
     */
    public channel.v1.Channel.SubscribeResponse subscribe(channel.v1.Channel.SubscribeRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getSubscribeMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Unsubscribe ends topic memberships.
     * </pre>
     */
    public channel.v1.Channel.UnsubscribeResponse unsubscribe(channel.v1.Channel.UnsubscribeRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getUnsubscribeMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * StreamMessages is SendMessage for firehose backends: a stream of requests, each answered by
     * one response carrying the request's id, in order; a request may carry one message or a batch.
     * Flow control is HTTP/2's: a backend that writes faster than channeld sends is slowed down
     * rather than buffered without bound.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<channel.v1.Channel.StreamMessagesRequest, channel.v1.Channel.StreamMessagesResponse>
        streamMessages() {
      return io.grpc.stub.ClientCalls.blockingBidiStreamingCall(
          getChannel(), getStreamMessagesMethod(), getCallOptions());
    }

    /**
     * <pre>
     * GetTopicMembers lists a topic's member client ids, ordered by client id, a page at a time,
     * each with whether it is connected now and the info its Subscribe set.
     * </pre>
     */
    public channel.v1.Channel.GetTopicMembersResponse getTopicMembers(channel.v1.Channel.GetTopicMembersRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetTopicMembersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * CountTopicMembers says how many client ids are members of a topic (constant time).
     * </pre>
     */
    public channel.v1.Channel.CountTopicMembersResponse countTopicMembers(channel.v1.Channel.CountTopicMembersRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCountTopicMembersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * WatchTopicPresence streams a topic's membership changes (joined, left, info updated) and the
     * connects and disconnects of its members: optionally a snapshot of the members first, then
     * every change as it happens; resumable from a cursor like WatchPresence.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, channel.v1.Channel.WatchTopicPresenceResponse>
        watchTopicPresence(channel.v1.Channel.WatchTopicPresenceRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getWatchTopicPresenceMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * WatchDeliveries streams delivery receipts: for each client id, the highest seq its browser has
     * acknowledged, coalesced to at most one event per client id per receipt interval; topic
     * acknowledgements too when asked. Resumable with the cursor of the last event received.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, channel.v1.Channel.WatchDeliveriesResponse>
        watchDeliveries(channel.v1.Channel.WatchDeliveriesRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getWatchDeliveriesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * GetDelivery says, for each client id, the last seq its browser acknowledged and the channel's
     * last seq.
     * </pre>
     */
    public channel.v1.Channel.GetDeliveryResponse getDelivery(channel.v1.Channel.GetDeliveryRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetDeliveryMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service ChannelService.
   * <pre>
   * ChannelService is how backends talk to channeld: mint tokens for browser clients, push messages to
   * them and watch them come and go. It re-creates Google App Engine's Channel API.
   * </pre>
   */
  public static final class ChannelServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<ChannelServiceBlockingStub> {
    private ChannelServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ChannelServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ChannelServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * CreateChannel mints a new, independent token for a client id. A browser opens sockets with it
     * until it expires.
     * </pre>
     */
    public channel.v1.Channel.CreateChannelResponse createChannel(channel.v1.Channel.CreateChannelRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateChannelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * SendMessage appends a message to the client's channel and pushes it to the client's socket. It
     * never fails because nobody is listening: `connected` says whether a socket was open, and the
     * message waits in the replay buffer for the next one.
     * </pre>
     */
    public channel.v1.Channel.SendMessageResponse sendMessage(channel.v1.Channel.SendMessageRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSendMessageMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * SendMessages sends many messages in one call; one bad item does not fail the others.
     * </pre>
     */
    public channel.v1.Channel.SendMessagesResponse sendMessages(channel.v1.Channel.SendMessagesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSendMessagesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * WatchPresence streams CONNECTED/DISCONNECTED events: optionally a snapshot of who is connected
     * now, then every change as it happens, in order per client id.
     * </pre>
     */
    public java.util.Iterator<channel.v1.Channel.WatchPresenceResponse> watchPresence(
        channel.v1.Channel.WatchPresenceRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getWatchPresenceMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * GetPresence says, for each client id, whether a socket is open now.
     * </pre>
     */
    public channel.v1.Channel.GetPresenceResponse getPresence(channel.v1.Channel.GetPresenceRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetPresenceMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * CloseChannel revokes every token minted so far for a client id and closes its socket.
     * </pre>
     */
    public channel.v1.Channel.CloseChannelResponse closeChannel(channel.v1.Channel.CloseChannelRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCloseChannelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Broadcast sends one message to many client ids and/or topics. It is encoded once; topic
     * messages reach every subscribed socket through the gateway's native pub/sub.
     * </pre>
     */
    public channel.v1.Channel.BroadcastResponse broadcast(channel.v1.Channel.BroadcastRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getBroadcastMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Subscribe makes client ids members of a topic. Membership lives on the server (it survives
     * reconnects); a member's socket receives every message broadcast to the topic.
     * </pre>
     */
    public channel.v1.Channel.SubscribeResponse subscribe(channel.v1.Channel.SubscribeRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSubscribeMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Unsubscribe ends topic memberships.
     * </pre>
     */
    public channel.v1.Channel.UnsubscribeResponse unsubscribe(channel.v1.Channel.UnsubscribeRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUnsubscribeMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * GetTopicMembers lists a topic's member client ids, ordered by client id, a page at a time,
     * each with whether it is connected now and the info its Subscribe set.
     * </pre>
     */
    public channel.v1.Channel.GetTopicMembersResponse getTopicMembers(channel.v1.Channel.GetTopicMembersRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetTopicMembersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * CountTopicMembers says how many client ids are members of a topic (constant time).
     * </pre>
     */
    public channel.v1.Channel.CountTopicMembersResponse countTopicMembers(channel.v1.Channel.CountTopicMembersRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCountTopicMembersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * WatchTopicPresence streams a topic's membership changes (joined, left, info updated) and the
     * connects and disconnects of its members: optionally a snapshot of the members first, then
     * every change as it happens; resumable from a cursor like WatchPresence.
     * </pre>
     */
    public java.util.Iterator<channel.v1.Channel.WatchTopicPresenceResponse> watchTopicPresence(
        channel.v1.Channel.WatchTopicPresenceRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getWatchTopicPresenceMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * WatchDeliveries streams delivery receipts: for each client id, the highest seq its browser has
     * acknowledged, coalesced to at most one event per client id per receipt interval; topic
     * acknowledgements too when asked. Resumable with the cursor of the last event received.
     * </pre>
     */
    public java.util.Iterator<channel.v1.Channel.WatchDeliveriesResponse> watchDeliveries(
        channel.v1.Channel.WatchDeliveriesRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getWatchDeliveriesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * GetDelivery says, for each client id, the last seq its browser acknowledged and the channel's
     * last seq.
     * </pre>
     */
    public channel.v1.Channel.GetDeliveryResponse getDelivery(channel.v1.Channel.GetDeliveryRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetDeliveryMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service ChannelService.
   * <pre>
   * ChannelService is how backends talk to channeld: mint tokens for browser clients, push messages to
   * them and watch them come and go. It re-creates Google App Engine's Channel API.
   * </pre>
   */
  public static final class ChannelServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<ChannelServiceFutureStub> {
    private ChannelServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ChannelServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ChannelServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * CreateChannel mints a new, independent token for a client id. A browser opens sockets with it
     * until it expires.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<channel.v1.Channel.CreateChannelResponse> createChannel(
        channel.v1.Channel.CreateChannelRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateChannelMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * SendMessage appends a message to the client's channel and pushes it to the client's socket. It
     * never fails because nobody is listening: `connected` says whether a socket was open, and the
     * message waits in the replay buffer for the next one.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<channel.v1.Channel.SendMessageResponse> sendMessage(
        channel.v1.Channel.SendMessageRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSendMessageMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * SendMessages sends many messages in one call; one bad item does not fail the others.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<channel.v1.Channel.SendMessagesResponse> sendMessages(
        channel.v1.Channel.SendMessagesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSendMessagesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * GetPresence says, for each client id, whether a socket is open now.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<channel.v1.Channel.GetPresenceResponse> getPresence(
        channel.v1.Channel.GetPresenceRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetPresenceMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * CloseChannel revokes every token minted so far for a client id and closes its socket.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<channel.v1.Channel.CloseChannelResponse> closeChannel(
        channel.v1.Channel.CloseChannelRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCloseChannelMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Broadcast sends one message to many client ids and/or topics. It is encoded once; topic
     * messages reach every subscribed socket through the gateway's native pub/sub.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<channel.v1.Channel.BroadcastResponse> broadcast(
        channel.v1.Channel.BroadcastRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getBroadcastMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Subscribe makes client ids members of a topic. Membership lives on the server (it survives
     * reconnects); a member's socket receives every message broadcast to the topic.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<channel.v1.Channel.SubscribeResponse> subscribe(
        channel.v1.Channel.SubscribeRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSubscribeMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Unsubscribe ends topic memberships.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<channel.v1.Channel.UnsubscribeResponse> unsubscribe(
        channel.v1.Channel.UnsubscribeRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUnsubscribeMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * GetTopicMembers lists a topic's member client ids, ordered by client id, a page at a time,
     * each with whether it is connected now and the info its Subscribe set.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<channel.v1.Channel.GetTopicMembersResponse> getTopicMembers(
        channel.v1.Channel.GetTopicMembersRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetTopicMembersMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * CountTopicMembers says how many client ids are members of a topic (constant time).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<channel.v1.Channel.CountTopicMembersResponse> countTopicMembers(
        channel.v1.Channel.CountTopicMembersRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCountTopicMembersMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * GetDelivery says, for each client id, the last seq its browser acknowledged and the channel's
     * last seq.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<channel.v1.Channel.GetDeliveryResponse> getDelivery(
        channel.v1.Channel.GetDeliveryRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetDeliveryMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_CHANNEL = 0;
  private static final int METHODID_SEND_MESSAGE = 1;
  private static final int METHODID_SEND_MESSAGES = 2;
  private static final int METHODID_WATCH_PRESENCE = 3;
  private static final int METHODID_GET_PRESENCE = 4;
  private static final int METHODID_CLOSE_CHANNEL = 5;
  private static final int METHODID_BROADCAST = 6;
  private static final int METHODID_SUBSCRIBE = 7;
  private static final int METHODID_UNSUBSCRIBE = 8;
  private static final int METHODID_GET_TOPIC_MEMBERS = 9;
  private static final int METHODID_COUNT_TOPIC_MEMBERS = 10;
  private static final int METHODID_WATCH_TOPIC_PRESENCE = 11;
  private static final int METHODID_WATCH_DELIVERIES = 12;
  private static final int METHODID_GET_DELIVERY = 13;
  private static final int METHODID_STREAM_MESSAGES = 14;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final AsyncService serviceImpl;
    private final int methodId;

    MethodHandlers(AsyncService serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_CREATE_CHANNEL:
          serviceImpl.createChannel((channel.v1.Channel.CreateChannelRequest) request,
              (io.grpc.stub.StreamObserver<channel.v1.Channel.CreateChannelResponse>) responseObserver);
          break;
        case METHODID_SEND_MESSAGE:
          serviceImpl.sendMessage((channel.v1.Channel.SendMessageRequest) request,
              (io.grpc.stub.StreamObserver<channel.v1.Channel.SendMessageResponse>) responseObserver);
          break;
        case METHODID_SEND_MESSAGES:
          serviceImpl.sendMessages((channel.v1.Channel.SendMessagesRequest) request,
              (io.grpc.stub.StreamObserver<channel.v1.Channel.SendMessagesResponse>) responseObserver);
          break;
        case METHODID_WATCH_PRESENCE:
          serviceImpl.watchPresence((channel.v1.Channel.WatchPresenceRequest) request,
              (io.grpc.stub.StreamObserver<channel.v1.Channel.WatchPresenceResponse>) responseObserver);
          break;
        case METHODID_GET_PRESENCE:
          serviceImpl.getPresence((channel.v1.Channel.GetPresenceRequest) request,
              (io.grpc.stub.StreamObserver<channel.v1.Channel.GetPresenceResponse>) responseObserver);
          break;
        case METHODID_CLOSE_CHANNEL:
          serviceImpl.closeChannel((channel.v1.Channel.CloseChannelRequest) request,
              (io.grpc.stub.StreamObserver<channel.v1.Channel.CloseChannelResponse>) responseObserver);
          break;
        case METHODID_BROADCAST:
          serviceImpl.broadcast((channel.v1.Channel.BroadcastRequest) request,
              (io.grpc.stub.StreamObserver<channel.v1.Channel.BroadcastResponse>) responseObserver);
          break;
        case METHODID_SUBSCRIBE:
          serviceImpl.subscribe((channel.v1.Channel.SubscribeRequest) request,
              (io.grpc.stub.StreamObserver<channel.v1.Channel.SubscribeResponse>) responseObserver);
          break;
        case METHODID_UNSUBSCRIBE:
          serviceImpl.unsubscribe((channel.v1.Channel.UnsubscribeRequest) request,
              (io.grpc.stub.StreamObserver<channel.v1.Channel.UnsubscribeResponse>) responseObserver);
          break;
        case METHODID_GET_TOPIC_MEMBERS:
          serviceImpl.getTopicMembers((channel.v1.Channel.GetTopicMembersRequest) request,
              (io.grpc.stub.StreamObserver<channel.v1.Channel.GetTopicMembersResponse>) responseObserver);
          break;
        case METHODID_COUNT_TOPIC_MEMBERS:
          serviceImpl.countTopicMembers((channel.v1.Channel.CountTopicMembersRequest) request,
              (io.grpc.stub.StreamObserver<channel.v1.Channel.CountTopicMembersResponse>) responseObserver);
          break;
        case METHODID_WATCH_TOPIC_PRESENCE:
          serviceImpl.watchTopicPresence((channel.v1.Channel.WatchTopicPresenceRequest) request,
              (io.grpc.stub.StreamObserver<channel.v1.Channel.WatchTopicPresenceResponse>) responseObserver);
          break;
        case METHODID_WATCH_DELIVERIES:
          serviceImpl.watchDeliveries((channel.v1.Channel.WatchDeliveriesRequest) request,
              (io.grpc.stub.StreamObserver<channel.v1.Channel.WatchDeliveriesResponse>) responseObserver);
          break;
        case METHODID_GET_DELIVERY:
          serviceImpl.getDelivery((channel.v1.Channel.GetDeliveryRequest) request,
              (io.grpc.stub.StreamObserver<channel.v1.Channel.GetDeliveryResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_STREAM_MESSAGES:
          return (io.grpc.stub.StreamObserver<Req>) serviceImpl.streamMessages(
              (io.grpc.stub.StreamObserver<channel.v1.Channel.StreamMessagesResponse>) responseObserver);
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getCreateChannelMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              channel.v1.Channel.CreateChannelRequest,
              channel.v1.Channel.CreateChannelResponse>(
                service, METHODID_CREATE_CHANNEL)))
        .addMethod(
          getSendMessageMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              channel.v1.Channel.SendMessageRequest,
              channel.v1.Channel.SendMessageResponse>(
                service, METHODID_SEND_MESSAGE)))
        .addMethod(
          getSendMessagesMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              channel.v1.Channel.SendMessagesRequest,
              channel.v1.Channel.SendMessagesResponse>(
                service, METHODID_SEND_MESSAGES)))
        .addMethod(
          getWatchPresenceMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              channel.v1.Channel.WatchPresenceRequest,
              channel.v1.Channel.WatchPresenceResponse>(
                service, METHODID_WATCH_PRESENCE)))
        .addMethod(
          getGetPresenceMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              channel.v1.Channel.GetPresenceRequest,
              channel.v1.Channel.GetPresenceResponse>(
                service, METHODID_GET_PRESENCE)))
        .addMethod(
          getCloseChannelMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              channel.v1.Channel.CloseChannelRequest,
              channel.v1.Channel.CloseChannelResponse>(
                service, METHODID_CLOSE_CHANNEL)))
        .addMethod(
          getBroadcastMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              channel.v1.Channel.BroadcastRequest,
              channel.v1.Channel.BroadcastResponse>(
                service, METHODID_BROADCAST)))
        .addMethod(
          getSubscribeMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              channel.v1.Channel.SubscribeRequest,
              channel.v1.Channel.SubscribeResponse>(
                service, METHODID_SUBSCRIBE)))
        .addMethod(
          getUnsubscribeMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              channel.v1.Channel.UnsubscribeRequest,
              channel.v1.Channel.UnsubscribeResponse>(
                service, METHODID_UNSUBSCRIBE)))
        .addMethod(
          getStreamMessagesMethod(),
          io.grpc.stub.ServerCalls.asyncBidiStreamingCall(
            new MethodHandlers<
              channel.v1.Channel.StreamMessagesRequest,
              channel.v1.Channel.StreamMessagesResponse>(
                service, METHODID_STREAM_MESSAGES)))
        .addMethod(
          getGetTopicMembersMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              channel.v1.Channel.GetTopicMembersRequest,
              channel.v1.Channel.GetTopicMembersResponse>(
                service, METHODID_GET_TOPIC_MEMBERS)))
        .addMethod(
          getCountTopicMembersMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              channel.v1.Channel.CountTopicMembersRequest,
              channel.v1.Channel.CountTopicMembersResponse>(
                service, METHODID_COUNT_TOPIC_MEMBERS)))
        .addMethod(
          getWatchTopicPresenceMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              channel.v1.Channel.WatchTopicPresenceRequest,
              channel.v1.Channel.WatchTopicPresenceResponse>(
                service, METHODID_WATCH_TOPIC_PRESENCE)))
        .addMethod(
          getWatchDeliveriesMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              channel.v1.Channel.WatchDeliveriesRequest,
              channel.v1.Channel.WatchDeliveriesResponse>(
                service, METHODID_WATCH_DELIVERIES)))
        .addMethod(
          getGetDeliveryMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              channel.v1.Channel.GetDeliveryRequest,
              channel.v1.Channel.GetDeliveryResponse>(
                service, METHODID_GET_DELIVERY)))
        .build();
  }

  private static abstract class ChannelServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    ChannelServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return channel.v1.Channel.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("ChannelService");
    }
  }

  private static final class ChannelServiceFileDescriptorSupplier
      extends ChannelServiceBaseDescriptorSupplier {
    ChannelServiceFileDescriptorSupplier() {}
  }

  private static final class ChannelServiceMethodDescriptorSupplier
      extends ChannelServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    ChannelServiceMethodDescriptorSupplier(java.lang.String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (ChannelServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new ChannelServiceFileDescriptorSupplier())
              .addMethod(getCreateChannelMethod())
              .addMethod(getSendMessageMethod())
              .addMethod(getSendMessagesMethod())
              .addMethod(getWatchPresenceMethod())
              .addMethod(getGetPresenceMethod())
              .addMethod(getCloseChannelMethod())
              .addMethod(getBroadcastMethod())
              .addMethod(getSubscribeMethod())
              .addMethod(getUnsubscribeMethod())
              .addMethod(getStreamMessagesMethod())
              .addMethod(getGetTopicMembersMethod())
              .addMethod(getCountTopicMembersMethod())
              .addMethod(getWatchTopicPresenceMethod())
              .addMethod(getWatchDeliveriesMethod())
              .addMethod(getGetDeliveryMethod())
              .build();
        }
      }
    }
    return result;
  }
}
