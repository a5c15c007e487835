package io.drover.shard;

import com.typesafe.config.Config;
import java.time.Duration;

/** Settings of {@code drover.shard-config}, read once. */
public record ShardSettings(int numberOfShards, Duration askTimeout, String role) {

    public static ShardSettings fromConfig(Config root) {
        Config c = root.getConfig("drover.shard-config");
        return new ShardSettings(c.getInt("number-of-shards"), c.getDuration("ask-timeout"), c.getString("role"));
    }
}
