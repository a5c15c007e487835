package io.drover.persistence.readside;

import io.drover.persistence.AlarmDirectory;
import io.drover.rules.Alarm;
import io.drover.rules.RulesSettings;
import java.util.List;
import java.util.Optional;
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
 * The projection that owns {@code alarms_by_tenant} and {@code alarm_by_id} (the device list's pattern: one instance
 * per alarm event tag, at least once, offsets in {@code projection_offsets}). Every alarm event carries the alarm as
 * it left it, so applying an event is one upsert of that alarm and applying it again changes nothing.
 */
public final class AlarmListProjection {

    public static final String NAME = "alarm-list";

    private AlarmListProjection() {}

    public static void init(ActorSystem<?> system, AlarmDirectory directory) {
        DeviceListProjection.Settings settings = DeviceListProjection.Settings.fromConfig(system.settings().config());
        List<String> tags = Alarm.eventTags(RulesSettings.fromConfig(system.settings().config()).eventTags());
        ShardedDaemonProcess.get(system).init(ProjectionBehavior.Command.class, NAME, tags.size(),
                i -> ProjectionBehavior.create(CassandraProjection.atLeastOnce(
                                ProjectionId.of(NAME, tags.get(i)),
                                EventSourcedProvider.<Alarm.Event>eventsByTag(system, CassandraReadJournal.Identifier(),
                                        tags.get(i)),
                                () -> handler(directory))
                        .withSaveOffset(settings.saveOffsetAfterEnvelopes(), settings.saveOffsetAfter())
                        .withRestartBackoff(settings.minBackoff(), settings.maxBackoff(), 0.2)),
                ShardedDaemonProcessSettings.create(system), Optional.of(ProjectionBehavior.stopMessage()));
    }

    public static Handler<EventEnvelope<Alarm.Event>> handler(AlarmDirectory directory) {
        return new Handler<>() {
            @Override
            public CompletionStage<Done> process(EventEnvelope<Alarm.Event> e) {
                return directory.upsert(e.event().alarm()).thenApply(x -> Done.getInstance());
            }
        };
    }
}
