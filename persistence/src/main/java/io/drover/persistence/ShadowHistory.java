package io.drover.persistence;

import io.drover.device.Device;
import io.drover.device.DeviceKey;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A device's shadow as it was at a past time, replayed from its journal with the entity's own event
 * handler ({@link Device.State#apply}). Works because the journal keeps every event: snapshots are
 * taken for recovery speed only and never delete events.
 */
public final class ShadowHistory {

    /** One shadow change as recorded. */
    public record Change(long version, Instant at, String document, com.fasterxml.jackson.databind.node.ObjectNode patch) {}

    private final ActorSystem<?> system;
    private final CurrentEventsByPersistenceIdQuery journal;

    /** @param journal the read journal of the plugin the device entities write to */
    public ShadowHistory(ActorSystem<?> system, CurrentEventsByPersistenceIdQuery journal) {
        this.system = system;
        this.journal = journal;
    }

    /** On the Cassandra journal (production, dev mode, integration tests). */
    public static ShadowHistory onCassandra(ActorSystem<?> system) {
        return new ShadowHistory(system, PersistenceQuery.get(system)
                .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier()));
    }

    private Source<Device.Event, ?> events(DeviceKey key) {
        return journal.currentEventsByPersistenceId(Device.persistenceId(key).id(), 0L, Long.MAX_VALUE)
                .map(env -> (Device.Event) env.event());
    }

    /** The device state at {@code at}; empty when the device did not exist yet. */
    public CompletionStage<Optional<Device.State>> stateAt(DeviceKey key, Instant at) {
        return events(key)
                .takeWhile(e -> !e.at().isAfter(at))
                .runFold(Device.State.empty(), Device.State::apply, system)
                .thenApply(s -> s.lifecycle() == Device.Lifecycle.NEW ? Optional.empty() : Optional.of(s));
    }

    /** The newest {@code limit} shadow changes, oldest first. */
    public CompletionStage<List<Change>> changes(DeviceKey key, int limit) {
        return events(key)
                .mapConcat(e -> {
                    if (e instanceof Device.DesiredUpdated d) {
                        return List.of(new Change(d.version(), d.at(), "desired", d.patch()));
                    } else if (e instanceof Device.ReportedUpdated r) {
                        return List.of(new Change(r.version(), r.at(), "reported", r.patch()));
                    }
                    return List.<Change>of();
                })
                .runWith(Sink.seq(), system)
                .thenApply(all -> List.copyOf(all.subList(Math.max(0, all.size() - limit), all.size())));
    }
}
