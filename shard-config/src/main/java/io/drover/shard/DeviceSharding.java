package io.drover.shard;

import io.drover.device.Device;
import io.drover.device.DeviceSettings;
import java.time.Clock;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.HashCodeMessageExtractor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;

/**
 * Starts sharding for the device entity and hands out the {@link DeviceClient} edges use.
 *
 * <p>The shard count is fixed once data exists: it decides which shard an entity id maps to
 * (hash of the id modulo the count). Changing it with the cluster running, or between restarts
 * with remember-entities on, puts an entity on two shards. Ten shards per planned node is the rule
 * of thumb; the default 1000 serves up to ~100 nodes.
 */
public final class DeviceSharding {

    private DeviceSharding() {}

    public static DeviceClient init(ActorSystem<?> system) {
        ShardSettings shardSettings = ShardSettings.fromConfig(system.settings().config());
        DeviceSettings deviceSettings = DeviceSettings.fromConfig(system.settings().config());
        ClusterSharding sharding = ClusterSharding.get(system);
        ActorRef<Topic.Command<Device.CredentialsChanged>> credentials = system.systemActorOf(
                Topic.create(Device.CredentialsChanged.class, Device.CREDENTIALS_TOPIC), "device-credentials-publisher",
                Props.empty());
        ClusterSessionDirectory sessions = ClusterSessionDirectory.start(system);
        Entity<Device.Command, ?> entity = Entity.of(Device.ENTITY_TYPE_KEY,
                        ctx -> Device.create(ctx.getEntityId(), deviceSettings, Clock.systemUTC(), credentials, sessions,
                                ctx.getShard()))
                .withMessageExtractor(new HashCodeMessageExtractor<>(shardSettings.numberOfShards()));
        if (!shardSettings.role().isEmpty()) {
            entity = entity.withSettings(ClusterShardingSettings.create(system).withRole(shardSettings.role()));
        }
        sharding.init(entity);
        return new ShardedDeviceClient(system, sharding, shardSettings);
    }
}
