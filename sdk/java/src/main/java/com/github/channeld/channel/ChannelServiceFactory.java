package com.github.channeld.channel;

/**
 * Where App Engine apps get their {@link ChannelService}: {@code
 * ChannelServiceFactory.getChannelService()}.
 *
 * <p>The shared service is a {@link ChannelClient} configured on first use from system properties
 * or the environment: {@code channeld.grpc.addr} / {@code CHANNELD_GRPC_ADDR} (default {@value
 * ChannelClient#DEFAULT_ADDRESS}) and {@code channeld.api.key} / {@code CHANNELD_API_KEY}.
 */
public final class ChannelServiceFactory {
  private static ChannelService configured;
  private static ChannelClient fromEnvironment;

  private ChannelServiceFactory() {}

  public static synchronized ChannelService getChannelService() {
    if (configured != null) {
      return configured;
    }
    if (fromEnvironment == null) {
      fromEnvironment = ChannelClient.fromEnvironment();
    }
    return fromEnvironment;
  }

  /**
   * Makes {@link #getChannelService()} return {@code service} (null: the one configured from the
   * environment again). The caller keeps owning {@code service}; the environment's client, if one
   * was made, is closed.
   */
  public static synchronized void setChannelService(ChannelService service) {
    configured = service;
    if (service != null && fromEnvironment != null) {
      fromEnvironment.close();
      fromEnvironment = null;
    }
  }
}
