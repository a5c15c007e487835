package io.drover.persistence;

import com.typesafe.config.ConfigFactory;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.persistence.Persistence;
import org.apache.pekko.persistence.SnapshotProtocol;
import org.apache.pekko.persistence.SnapshotSelectionCriteria;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * A device's shadow history, replayed from its journal with the entity's own event handler
 * ({@link Device.State#apply}). Works because the journal keeps every event: snapshots are taken for recovery
 * speed and never delete events. Reads are bounded by what was asked, not by the history (docs/device-twin.md):
 * the newest changes are read back from the journal's end in growing windows of sequence numbers, a page at a
 * time; the state at a time starts from the newest snapshot taken before it, and folds events one by one.
 */
public final class ShadowHistory {

    /** One shadow change as recorded; {@code sequenceNr} is its place in the journal (the paging cursor). */
    public record Change(long version, Instant at, String document, com.fasterxml.jackson.databind.node.ObjectNode patch,
            long sequenceNr) {}

    /** Up to a page of changes, oldest first; {@code nextCursor}: pass it as {@code before} for the older ones. */
    public record Page(List<Change> changes, Optional<Long> nextCursor) {}

    /** A snapshot of a twin: its state after {@code sequenceNr}. */
    public record Snapshot(long sequenceNr, Device.State state) {}

    /** Finds the newest snapshot of a twin saved at or before a time. */
    public interface Snapshots {
        CompletionStage<Optional<Snapshot>> before(String persistenceId, Instant at);

        Snapshots NONE = (id, at) -> CompletableFuture.completedFuture(Optional.empty());
    }

    /** The first window read back from the journal's end, and the largest (it doubles until a page is full). */
    static final int FIRST_WINDOW = 64;
    static final int MAX_WINDOW = 4096;

    private final ActorSystem<?> system;
    private final CurrentEventsByPersistenceIdQuery journal;
    private final Snapshots snapshots;

    /** @param journal the read journal of the plugin the device entities write to */
    public ShadowHistory(ActorSystem<?> system, CurrentEventsByPersistenceIdQuery journal) {
        this(system, journal, snapshotStore(system));
    }

    public ShadowHistory(ActorSystem<?> system, CurrentEventsByPersistenceIdQuery journal, Snapshots snapshots) {
        this.system = system;
        this.journal = journal;
        this.snapshots = snapshots;
    }

    /** On the Cassandra journal (production, dev mode, integration tests). */
    public static ShadowHistory onCassandra(ActorSystem<?> system) {
        return new ShadowHistory(system, PersistenceQuery.get(system)
                .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier()));
    }

    /** The default snapshot store's newest snapshot of a twin saved at or before a time. */
    public static Snapshots snapshotStore(ActorSystem<?> system) {
        return (id, at) -> {
            var store = Persistence.get(Adapter.toClassic(system)).snapshotStoreFor("", ConfigFactory.empty());
            var load = new SnapshotProtocol.LoadSnapshot(id,
                    SnapshotSelectionCriteria.create(Long.MAX_VALUE, at.toEpochMilli()), Long.MAX_VALUE);
            return Patterns.ask(store, load, Duration.ofSeconds(10)).thenApply(reply -> {
                if (reply instanceof SnapshotProtocol.LoadSnapshotResult r && r.snapshot().isDefined()
                        && r.snapshot().get().snapshot() instanceof Device.State s) {
                    return Optional.of(new Snapshot(r.snapshot().get().metadata().sequenceNr(), s));
                }
                return Optional.<Snapshot>empty(); // none, or it could not be read: replay from the start
            });
        };
    }

    /** The device state at {@code at}; empty when the device did not exist yet. */
    public CompletionStage<Optional<Device.State>> stateAt(DeviceKey key, Instant at) {
        String id = Device.persistenceId(key).id();
        return snapshots.before(id, at).exceptionally(e -> Optional.empty()).thenCompose(snap -> {
            Device.State start = snap.map(Snapshot::state).orElse(Device.State.empty());
            long from = snap.map(s -> s.sequenceNr() + 1).orElse(0L);
            return journal.currentEventsByPersistenceId(id, from, Long.MAX_VALUE)
                    .map(env -> (Device.Event) env.event())
                    .takeWhile(e -> !e.at().isAfter(at))
                    .runFold(start, Device.State::apply, system);
        }).thenApply(s -> s.lifecycle() == Device.Lifecycle.NEW ? Optional.empty() : Optional.of(s));
    }

    /**
     * The newest {@code limit} shadow changes before sequence number {@code before} (exclusive; the journal's end
     * is {@code last}), oldest first. Reads windows of sequence numbers back from there, doubling from
     * {@value #FIRST_WINDOW} to {@value #MAX_WINDOW}, until the page is full or the journal's start: what it holds
     * is at most a page plus a window, whatever the history.
     */
    public CompletionStage<Page> changes(DeviceKey key, int limit, long before, long last) {
        long upper = Math.min(before - 1, last);
        return back(Device.persistenceId(key).id(), limit, upper, FIRST_WINDOW, new ArrayList<>());
    }

    private CompletionStage<Page> back(String id, int limit, long upper, int window, List<Change> newer) {
        if (upper < 1) {
            return CompletableFuture.completedFuture(new Page(List.copyOf(newer), Optional.empty()));
        }
        long from = Math.max(1, upper - window + 1);
        return journal.currentEventsByPersistenceId(id, from, upper)
                .mapConcat(env -> {
                    Object e = env.event();
                    if (e instanceof Device.DesiredUpdated d) {
                        return List.of(new Change(d.version(), d.at(), "desired", d.patch(), env.sequenceNr()));
                    } else if (e instanceof Device.ReportedUpdated r) {
                        return List.of(new Change(r.version(), r.at(), "reported", r.patch(), env.sequenceNr()));
                    }
                    return List.<Change>of();
                })
                .runWith(Sink.seq(), system) // one window at most
                .thenCompose(older -> {
                    List<Change> all = new ArrayList<>(older);
                    all.addAll(newer);
                    if (all.size() >= limit) {
                        List<Change> page = List.copyOf(all.subList(all.size() - limit, all.size()));
                        boolean more = all.size() > limit || from > 1;
                        return CompletableFuture.completedFuture(new Page(page,
                                more ? Optional.of(page.get(0).sequenceNr()) : Optional.empty()));
                    }
                    return back(id, limit, from - 1, Math.min(window * 2, MAX_WINDOW), all);
                });
    }
}
