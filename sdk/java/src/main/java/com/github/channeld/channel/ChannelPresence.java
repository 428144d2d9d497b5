package com.github.channeld.channel;

/**
 * A presence notice: {@code clientId}'s first socket opened ({@code isConnected} true) or its last
 * one closed. Read one with {@link ChannelService#parsePresence}.
 */
public record ChannelPresence(boolean isConnected, String clientId) {}
