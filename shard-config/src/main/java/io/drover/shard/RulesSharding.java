package io.drover.shard;

import io.drover.device.DeviceKey;
import io.drover.rules.Alarm;
import io.drover.rules.DeviceRules;
import io.drover.rules.RuleCompiler;
import io.drover.rules.RuleEffects;
import io.drover.rules.RuleSet;
import io.drover.rules.RulesSettings;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.HashCodeMessageExtractor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;

/**
 * Sharding of the rules context: rule sets (one per tenant), alarms (one per device and type) and the owners of
 * the devices' rule state ({@link DeviceRules}, keyed like the twins). The shard count is the device entities'
 * one ({@code drover.shard-config.number-of-shards}, fixed once data exists).
 */
public final class RulesSharding {

    /** Settings of {@code drover.rules.sharding}, read once. */
    public record Settings(int catalogTenants, Duration catalogTtl, Duration ownerIdleTimeout, Duration observeTimeout) {

        static Settings fromConfig(com.typesafe.config.Config root) {
            com.typesafe.config.Config c = root.getConfig("drover.rules.sharding");
            return new Settings(c.getInt("catalog-tenants"), c.getDuration("catalog-ttl"),
                    c.getDuration("owner-idle-timeout"), c.getDuration("observe-timeout"));
        }
    }

    private final ActorSystem<?> system;
    private final ClusterSharding sharding;
    private final ShardSettings shardSettings;
    private final RulesSettings rulesSettings;
    private final Settings settings;
    private final RuleClient rules;
    private final AlarmClient alarms;
    private final ClusterRuleCatalog catalog;
    private final ActorRef<Topic.Command<Alarm.Changed>> alarmChanges;

    private RulesSharding(ActorSystem<?> system) {
        this.system = system;
        this.sharding = ClusterSharding.get(system);
        this.shardSettings = ShardSettings.fromConfig(system.settings().config());
        this.rulesSettings = RulesSettings.fromConfig(system.settings().config());
        this.settings = Settings.fromConfig(system.settings().config());
        this.rules = new RuleClient(sharding, shardSettings.askTimeout());
        this.alarms = new AlarmClient(sharding, shardSettings.askTimeout());
        this.catalog = new ClusterRuleCatalog(rules, new RuleCompiler(rulesSettings), settings.catalogTenants(),
                settings.catalogTtl());
        // A change made through this node is seen by its catalog at once; other nodes hear of it on the topic.
        rules.onChange(catalog::invalidate);
        ActorRef<Topic.Command<RuleSet.SetChanged>> setChanges = system.systemActorOf(
                Topic.create(RuleSet.SetChanged.class, RuleSet.CHANGES_TOPIC), "rule-set-changes", Props.empty());
        this.alarmChanges = system.systemActorOf(Topic.create(Alarm.Changed.class, Alarm.CHANGES_TOPIC), "alarm-changes",
                Props.empty());
        ActorRef<RuleSet.SetChanged> listener = system.systemActorOf(Behaviors.receive(RuleSet.SetChanged.class)
                .onMessage(RuleSet.SetChanged.class, c -> {
                    catalog.changed(c);
                    return Behaviors.same();
                }).build(), "rule-catalog-listener", Props.empty());
        setChanges.tell(Topic.subscribe(listener));

        Clock clock = Clock.systemUTC();
        sharding.init(entity(Entity.of(RuleSet.ENTITY_TYPE_KEY,
                ctx -> RuleSet.create(ctx.getEntityId(), rulesSettings, clock, setChanges))));
        sharding.init(entity(Entity.of(Alarm.ENTITY_TYPE_KEY,
                ctx -> Alarm.create(ctx.getEntityId(), rulesSettings, clock, alarmChanges))));
    }

    private <M> Entity<M, ?> entity(Entity<M, ?> e) {
        Entity<M, ?> out = e.withMessageExtractor(new HashCodeMessageExtractor<>(shardSettings.numberOfShards()));
        if (!shardSettings.role().isEmpty()) {
            out = out.withSettings(ClusterShardingSettings.create(system).withRole(shardSettings.role()));
        }
        return out;
    }

    /** Starts rule-set and alarm sharding and this node's rule catalog. */
    public static RulesSharding init(ActorSystem<?> system) {
        return new RulesSharding(system);
    }

    /**
     * Starts sharding of the rule-state owners, whose effects need the node's telemetry and clients (so this comes
     * after {@link #init}, before any telemetry flows).
     */
    public DeviceRulesClient startOwners(RuleEffects effects) {
        Entity<DeviceRules.Command, ?> e = Entity.of(DeviceRules.ENTITY_TYPE_KEY,
                        ctx -> DeviceRules.create(ctx.getEntityId(), rulesSettings, catalog, effects, Clock.systemUTC()))
                .withMessageExtractor(new HashCodeMessageExtractor<>(shardSettings.numberOfShards()));
        ClusterShardingSettings base = ClusterShardingSettings.create(system);
        ClusterShardingSettings s = base.withPassivationStrategy(
                base.passivationStrategySettings().withIdleEntityPassivation(settings.ownerIdleTimeout()));
        if (!shardSettings.role().isEmpty()) {
            s = s.withRole(shardSettings.role());
        }
        sharding.init(e.withSettings(s));
        return new DeviceRulesClient(sharding, settings.observeTimeout());
    }

    public RuleClient rules() {
        return rules;
    }

    public AlarmClient alarms() {
        return alarms;
    }

    public ClusterRuleCatalog catalog() {
        return catalog;
    }

    public RulesSettings settings() {
        return rulesSettings;
    }

    /** The cluster-wide alarm change topic (WebSocket subscribers join it). */
    public ActorRef<Topic.Command<Alarm.Changed>> alarmChanges() {
        return alarmChanges;
    }

    /** The typed facade over the rule-state owners. */
    public static final class DeviceRulesClient {
        private final ClusterSharding sharding;
        private final Duration timeout;

        DeviceRulesClient(ClusterSharding sharding, Duration timeout) {
            this.sharding = sharding;
            this.timeout = timeout;
        }

        public CompletionStage<DeviceRules.Reply> observe(DeviceKey key, List<DeviceRules.Message> messages,
                boolean derived, long setVersion) {
            return Stages.direct(sharding.entityRefFor(DeviceRules.ENTITY_TYPE_KEY, key.entityId())
                    .ask(r -> new DeviceRules.Observe(messages, derived, setVersion, r), timeout));
        }
    }

}
