package io.drover.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.NoOffset;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shadow history reads what was asked, not the history: a twin with 10,000 journal events, served by a
 * journal that counts every event it hands out. The newest page reads one window back from the end, pages walk
 * back without gaps or repeats, sparse changes grow the window but stay bounded, and the state at a time starts
 * from the snapshot before it — with the same result as a replay from the start.
 */
class ShadowHistoryTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DeviceKey KEY = new DeviceKey("acme", "h1");
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static ActorSystem<Void> system;

    @BeforeAll
    static void start() {
        system = ActorSystem.create(Behaviors.empty(), "shadow-history-test");
    }

    @AfterAll
    static void stop() {
        system.terminate();
    }

    /** seq 1 registers; then one event a second, a desired change every {@code every}-th, else a connect. */
    private static final class Journal implements CurrentEventsByPersistenceIdQuery {
        final int events;
        final int every;
        final AtomicLong served = new AtomicLong();

        Journal(int events, int every) {
            this.events = events;
            this.every = every;
        }

        Device.Event event(long seq) {
            Instant at = T0.plusSeconds(seq);
            if (seq == 1) {
                return new Device.Registered(KEY, "n", "t", List.of(), JSON.createObjectNode(), "hash", at);
            }
            if (seq % every == 0) {
                ObjectNode patch = JSON.createObjectNode().put("n", seq);
                return new Device.DesiredUpdated(patch, seq / every, at);
            }
            return new Device.Connected("s" + seq, "node", at);
        }

        @Override
        public Source<EventEnvelope, NotUsed> currentEventsByPersistenceId(String id, long from, long to) {
            long first = Math.max(1, from);
            long last = Math.min(to, events);
            if (first > last) {
                return Source.empty();
            }
            return Source.range((int) first, (int) last).map(seq -> {
                served.incrementAndGet();
                return new EventEnvelope(NoOffset.getInstance(), id, seq, event(seq), 0L);
            });
        }
    }

    @Test
    void theNewestPageReadsOneWindowAndPagesWalkBackWithoutGaps() throws Exception {
        Journal journal = new Journal(10_000, 1);
        ShadowHistory history = new ShadowHistory(system, journal, ShadowHistory.Snapshots.NONE);
        ShadowHistory.Page page = history.changes(KEY, 10, Long.MAX_VALUE, 10_000).toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        assertEquals(List.of(9991L, 9992L, 9993L, 9994L, 9995L, 9996L, 9997L, 9998L, 9999L, 10000L),
                page.changes().stream().map(ShadowHistory.Change::sequenceNr).toList());
        assertTrue(journal.served.get() <= ShadowHistory.FIRST_WINDOW, "events read: " + journal.served.get());
        List<Long> walked = new ArrayList<>(page.changes().stream().map(ShadowHistory.Change::version).toList());
        for (int i = 0; i < 3; i++) {
            page = history.changes(KEY, 10, page.nextCursor().orElseThrow(), 10_000).toCompletableFuture().get();
            walked.addAll(0, page.changes().stream().map(ShadowHistory.Change::version).toList());
        }
        for (int i = 1; i < walked.size(); i++) {
            assertEquals(walked.get(i - 1) + 1, walked.get(i), "no gap, no repeat: " + walked);
        }
        assertEquals(40, walked.size());
        assertTrue(journal.served.get() <= 4 * ShadowHistory.FIRST_WINDOW, "events read: " + journal.served.get());
    }

    @Test
    void sparseChangesGrowTheWindowButReadsStayBounded() throws Exception {
        Journal journal = new Journal(10_000, 500);
        ShadowHistory history = new ShadowHistory(system, journal, ShadowHistory.Snapshots.NONE);
        ShadowHistory.Page page = history.changes(KEY, 3, Long.MAX_VALUE, 10_000).toCompletableFuture().get();
        assertEquals(List.of(9000L, 9500L, 10000L), page.changes().stream().map(ShadowHistory.Change::sequenceNr).toList());
        assertTrue(journal.served.get() < 2 * 1500 + ShadowHistory.MAX_WINDOW, "events read: " + journal.served.get());
        ShadowHistory.Page all = history.changes(KEY, 500, Long.MAX_VALUE, 10_000).toCompletableFuture().get();
        assertEquals(20, all.changes().size(), "every change once");
        assertTrue(all.nextCursor().isEmpty(), "the start of the journal: nothing older");
    }

    @Test
    void theStateAtATimeStartsFromTheSnapshotBeforeIt() throws Exception {
        Journal journal = new Journal(10_000, 1);
        Instant at = T0.plusSeconds(9_500);
        Device.State full = new ShadowHistory(system, journal, ShadowHistory.Snapshots.NONE).stateAt(KEY, at)
                .toCompletableFuture().get().orElseThrow();
        long replayed = journal.served.getAndSet(0);
        // the snapshot of seq 9,000: the state the events 1..9,000 make
        Device.State at9000 = Device.State.empty();
        for (long seq = 1; seq <= 9_000; seq++) {
            at9000 = at9000.apply(journal.event(seq));
        }
        Device.State snapState = at9000;
        ShadowHistory.Snapshots snapshots = (id, t) -> CompletableFuture.completedFuture(
                t.isBefore(T0.plusSeconds(9_000)) ? Optional.empty()
                        : Optional.of(new ShadowHistory.Snapshot(9_000, snapState)));
        Device.State fromSnapshot = new ShadowHistory(system, journal, snapshots).stateAt(KEY, at)
                .toCompletableFuture().get().orElseThrow();
        assertEquals(full.shadowView(), fromSnapshot.shadowView(), "the same state either way");
        assertEquals(9_500, fromSnapshot.shadowView().version());
        assertTrue(journal.served.get() <= 502, "from the snapshot on: " + journal.served.get() + " events (a full "
                + "replay read " + replayed + ")");
    }
}
