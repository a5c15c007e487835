package io.drover.persistence.readside;

import io.drover.persistence.AlarmDirectory;
import io.drover.rules.Alarm;
import io.drover.rules.RulesSettings;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
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
        List<String> tags = Alarm.eventTags(RulesSettings.fromConfig(system.settings().config()).eventTags());
        DeviceListProjection.start(system, NAME, tags, () -> handler(directory));
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
