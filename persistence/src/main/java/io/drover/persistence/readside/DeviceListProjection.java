package io.drover.persistence.readside;

import com.typesafe.config.Config;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.device.DeviceSettings;
import io.drover.persistence.DeviceDirectory;
import io.drover.persistence.DeviceListing;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.cassandra.javadsl.CassandraProjection;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.eventsourced.javadsl.EventSourcedProvider;
import org.apache.pekko.projection.javadsl.Handler;

/**
 * The projection that owns {@code devices_by_tenant}: it follows the twins' journal by tag (one instance per
 * tag, spread over the cluster by a sharded daemon process) and applies each event as an idempotent upsert.
 * At least once: after a crash the events since the last saved offset are applied again, in each device's
 * order, which ends in the same rows. Nothing else writes the table, so changes a twin makes by itself
 * (activation on first connect, later alarms) reach the list like those made through the API.
 */
public final class DeviceListProjection {

    public static final String NAME = "device-list";

    /** Settings of {@code drover.persistence.projections}, read once. */
    public record Settings(int saveOffsetAfterEnvelopes, Duration saveOffsetAfter, Duration minBackoff,
            Duration maxBackoff) {

        public static Settings fromConfig(Config root) {
            Config c = root.getConfig("drover.persistence.projections");
            return new Settings(c.getInt("save-offset-after-envelopes"), c.getDuration("save-offset-after"),
                    c.getDuration("restart-min-backoff"), c.getDuration("restart-max-backoff"));
        }
    }

    private DeviceListProjection() {}

    /** Starts the projection's instances (one per device event tag) on this cluster. */
    public static void init(ActorSystem<?> system, DeviceDirectory directory) {
        List<String> tags = Device.eventTags(DeviceSettings.fromConfig(system.settings().config()).eventTags());
        start(system, NAME, tags, () -> handler(directory));
    }

    /**
     * One at-least-once Cassandra projection instance per tag, spread over the cluster by a sharded daemon process,
     * offsets saved as {@code drover.persistence.projections} says: the read side's one pattern (devices, alarms).
     */
    static <E> void start(ActorSystem<?> system, String name, List<String> tags,
            java.util.function.Supplier<Handler<EventEnvelope<E>>> handler) {
        Settings settings = Settings.fromConfig(system.settings().config());
        ShardedDaemonProcess.get(system).init(ProjectionBehavior.Command.class, name, tags.size(),
                i -> ProjectionBehavior.create(CassandraProjection.atLeastOnce(
                                ProjectionId.of(name, tags.get(i)),
                                EventSourcedProvider.<E>eventsByTag(system, CassandraReadJournal.Identifier(), tags.get(i)),
                                handler::get)
                        .withSaveOffset(settings.saveOffsetAfterEnvelopes(), settings.saveOffsetAfter())
                        .withRestartBackoff(settings.minBackoff(), settings.maxBackoff(), 0.2)),
                ShardedDaemonProcessSettings.create(system), Optional.of(ProjectionBehavior.stopMessage()));
    }

    public static Handler<EventEnvelope<Device.Event>> handler(DeviceDirectory directory) {
        return new Handler<>() {
            @Override
            public CompletionStage<Done> process(EventEnvelope<Device.Event> e) {
                return apply(directory, e.persistenceId(), e.event());
            }
        };
    }

    /** What one event changes in the list (events of one device arrive in their journal order). */
    public static CompletionStage<Done> apply(DeviceDirectory directory, String persistenceId, Device.Event event) {
        DeviceKey key = keyOf(persistenceId);
        String t = key.tenantId();
        String d = key.deviceId();
        CompletionStage<Void> write;
        if (event instanceof Device.Registered r) {
            write = directory.upsert(new DeviceListing(t, d, r.name(), r.type(),
                    r.labels() == null ? List.of() : List.copyOf(new java.util.TreeSet<>(r.labels())),
                    lifecycle(Device.Lifecycle.PROVISIONED), r.at(), r.at()));
        } else if (event instanceof Device.MetadataUpdated m) {
            write = directory.updateMetadata(t, d, m.name(), m.type(), m.labels() == null ? List.of() : m.labels(), m.at());
        } else if (event instanceof Device.Activated a) {
            write = directory.updateLifecycle(t, d, lifecycle(Device.Lifecycle.ACTIVE), a.at());
        } else if (event instanceof Device.Suspended s) {
            write = directory.updateLifecycle(t, d, lifecycle(Device.Lifecycle.SUSPENDED), s.at());
        } else if (event instanceof Device.Decommissioned x) {
            write = directory.updateLifecycle(t, d, lifecycle(Device.Lifecycle.DECOMMISSIONED), x.at());
        } else if (event instanceof Device.CredentialsRotated || event instanceof Device.CertificateSet) {
            write = directory.touch(t, d, event.at());
        } else if (event instanceof Device.Connected) {
            write = directory.updateOnline(t, d, true);
        } else if (event instanceof Device.Disconnected) {
            write = directory.updateOnline(t, d, false);
        } else {
            return CompletableFuture.completedFuture(Done.getInstance()); // shadow, commands: not listed
        }
        return write.thenApply(x -> Done.getInstance());
    }

    private static String lifecycle(Device.Lifecycle l) {
        return l.name().toLowerCase();
    }

    /** {@code Device|tenant:device} → the key. */
    static DeviceKey keyOf(String persistenceId) {
        String prefix = Device.ENTITY_TYPE_KEY.name() + "|";
        if (!persistenceId.startsWith(prefix)) {
            throw new IllegalArgumentException("not a device persistence id: " + persistenceId);
        }
        return DeviceKey.fromEntityId(persistenceId.substring(prefix.length()));
    }
}
