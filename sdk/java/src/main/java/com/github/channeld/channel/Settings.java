package com.github.channeld.channel;

import java.util.function.UnaryOperator;

/**
 * Where {@link ChannelClient} finds channeld: what the caller set, else a system property, else
 * the environment variable the Go and Python kits read, else the default. Empty counts as unset.
 */
record Settings(String address, String apiKey) {
  static final String ADDRESS_PROPERTY = "channeld.grpc.addr";
  static final String ADDRESS_VARIABLE = "CHANNELD_GRPC_ADDR";
  static final String API_KEY_PROPERTY = "channeld.api.key";
  static final String API_KEY_VARIABLE = "CHANNELD_API_KEY";

  /** {@code apiKey} "" means none, without looking further; null means unset. */
  static Settings resolve(String address, String apiKey, UnaryOperator<String> properties, UnaryOperator<String> environment) {
    String resolvedAddress = first(address, properties.apply(ADDRESS_PROPERTY), environment.apply(ADDRESS_VARIABLE), ChannelClient.DEFAULT_ADDRESS);
    String resolvedKey = apiKey != null ? apiKey : first(properties.apply(API_KEY_PROPERTY), environment.apply(API_KEY_VARIABLE), "");
    return new Settings(resolvedAddress, resolvedKey);
  }

  static Settings fromSystem(String address, String apiKey) {
    return resolve(address, apiKey, System::getProperty, System::getenv);
  }

  private static String first(String... values) {
    for (String value : values) {
      if (value != null && !value.isEmpty()) {
        return value;
      }
    }
    return "";
  }
}
