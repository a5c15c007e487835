package io.drover.shard;

import com.typesafe.config.Config;
import java.time.Duration;

/** Settings of {@code drover.shard-config}, read once. */
public record ShardSettings(int numberOfShards, Duration askTimeout, String role, int unknownDevices,
        Duration unknownDeviceTtl) {

    public static ShardSettings fromConfig(Config root) {
        Config c = root.getConfig("drover.shard-config");
        return new ShardSettings(c.getInt("number-of-shards"), c.getDuration("ask-timeout"), c.getString("role"),
                c.getInt("unknown-devices.size"), c.getDuration("unknown-devices.ttl"));
    }
}
