package io.drover.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.drover.device.TestClock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Alarm lifecycle: instances, repeats, ack and clear by key, flapping, notifications, recovery. */
class AlarmTest {

    private static final ActorTestKit testKit = ActorTestKit.create(
            EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));
    private static final AtomicInteger ids = new AtomicInteger();
    private static final RulesSettings SETTINGS = RulesSettings.defaults().withFlapping(4, Duration.ofMinutes(1));

    private EventSourcedBehaviorTestKit<Alarm.Command, Alarm.Event, Alarm.State> kit;
    private TestProbe<Alarm.Changed> notified;
    private TestClock clock;

    @AfterAll
    static void shutdown() {
        testKit.shutdownTestKit();
    }

    @BeforeEach
    void fresh() {
        clock = new TestClock();
        notified = testKit.createTestProbe();
        int n = ids.incrementAndGet();
        ActorRef<Topic.Command<Alarm.Changed>> topic = testKit.spawn(Topic.create(Alarm.Changed.class, "alarms-" + n));
        topic.tell(Topic.subscribe(notified.ref()));
        TestProbe<Topic.TopicStats> stats = testKit.createTestProbe();
        stats.awaitAssert(() -> {
            topic.tell(Topic.getTopicStats(stats.ref()));
            assertEquals(1, stats.receiveMessage().localSubscriberCount());
            return null;
        });
        kit = EventSourcedBehaviorTestKit.create(testKit.system(),
                Alarm.create(new Alarm.Key("acme", "d" + n, "overheat").entityId(), SETTINGS, clock, topic));
    }

    private Alarm.AlarmView raise(String raiseKey) {
        clock.advance(Duration.ofSeconds(1));
        return assertInstanceOf(Alarm.Details.class, kit.<Alarm.Reply>runCommand(r -> new Alarm.Raise(raiseKey, "rule-1", 2,
                Severity.MAJOR, null, clock.instant(), r)).reply()).alarm();
    }

    private Alarm.AlarmView clear(String by) {
        clock.advance(Duration.ofSeconds(1));
        return assertInstanceOf(Alarm.Details.class,
                kit.<Alarm.Reply>runCommand(r -> new Alarm.Clear(by, null, clock.instant(), r)).reply()).alarm();
    }

    private Alarm.AlarmView published() {
        return notified.receiveMessage().alarm();
    }

    @Test
    void aRepeatCountsAnOccurrenceAndTheSameRaiseAgainChangesNothing() {
        Alarm.AlarmView a = raise("rule-1@1000");
        assertEquals(1, a.instance());
        assertTrue(a.id().endsWith(":overheat:1"));
        assertEquals(Alarm.Status.ACTIVE, a.status());
        assertEquals("rule-1", a.ruleId());
        assertEquals(2, a.ruleVersion());
        published();
        assertEquals(1, raise("rule-1@1000").occurrences(), "the same raise (a retry, a failover) is no occurrence");
        notified.expectNoMessage(Duration.ofMillis(50));
        Alarm.AlarmView b = raise("rule-1@5000");
        assertEquals(2, b.occurrences());
        assertEquals(a.id(), b.id(), "one alarm while active, not a duplicate");
        assertEquals(2, published().occurrences());
    }

    @Test
    void clearedThenRaisedIsANewInstanceAndAckAndClearRecordWho() {
        Alarm.AlarmView a = raise("x@1");
        Alarm.AlarmView acked = assertInstanceOf(Alarm.Details.class,
                kit.<Alarm.Reply>runCommand(r -> new Alarm.Acknowledge("key:k1", 1, r)).reply()).alarm();
        assertTrue(acked.acknowledged());
        assertEquals("key:k1", acked.ackedBy());
        assertEquals(Alarm.Status.ACTIVE, acked.status(), "acknowledged is not cleared");
        Alarm.AlarmView cleared = clear("key:k2");
        assertEquals(Alarm.Status.CLEARED, cleared.status());
        assertEquals("key:k2", cleared.clearedBy());
        assertEquals(cleared, clear("rule:rule-1"), "a second clear changes nothing");
        assertEquals(Alarm.Status.CLEARED, raise("x@1").status(),
                "the owner reconciling the same raise after recovery does not undo a clear by hand");
        Alarm.AlarmView b = raise("x@9");
        assertEquals(2, b.instance());
        assertFalse(b.acknowledged());
        Alarm.Rejected old = assertInstanceOf(Alarm.Rejected.class,
                kit.<Alarm.Reply>runCommand(r -> new Alarm.Acknowledge("key:k1", 1, r)).reply());
        assertEquals(Alarm.Rejection.NOT_CURRENT, old.code());
        kit.restart();
        assertEquals(b.id(), assertInstanceOf(Alarm.Details.class, kit.<Alarm.Reply>runCommand(Alarm.Get::new).reply())
                .alarm().id());
        assertTrue(a.firstSeenAt().isBefore(b.firstSeenAt()));
    }

    @Test
    void flappingBecomesOneAlarmInsteadOfANotificationPerChange() {
        raise("f@1");
        clear("rule:rule-1");
        raise("f@2");
        assertEquals(3, List.of(published(), published(), published()).size());
        Alarm.AlarmView flapping = clear("rule:rule-1"); // the 4th change within a minute
        assertTrue(flapping.flapping());
        assertEquals(Alarm.Status.ACTIVE, flapping.status());
        assertTrue(published().flapping());
        for (int i = 0; i < 10; i++) {
            raise("f@" + (10 + i));
            clear("rule:rule-1");
        }
        notified.expectNoMessage(Duration.ofMillis(100));
        Alarm.AlarmView during = assertInstanceOf(Alarm.Details.class, kit.<Alarm.Reply>runCommand(Alarm.Get::new).reply())
                .alarm();
        assertEquals(20, during.flaps());
        assertEquals(2, during.instance(), "no new instance per flap");
        kit.restart();
        assertTrue(kit.getState().current().flapping(), "flapping survives recovery");
        assertFalse(kit.getState().wantActive(), "the last change asked for clear");

        // quiet for the window (the entity was passivated meanwhile: no timer): the next raise settles it first
        clock.advance(Duration.ofMinutes(2));
        kit.<Alarm.Reply>runCommand(r -> new Alarm.Raise("f@99", "rule-1", 2, Severity.MAJOR, null, clock.instant(), r));
        Alarm.AlarmView settled = published();
        assertFalse(settled.flapping());
        assertEquals(Alarm.Status.CLEARED, settled.status(), "settled in the last state asked for");
        Alarm.AlarmView next = published();
        assertEquals(3, next.instance(), "then the raise is a new alarm");
        assertEquals(Alarm.Status.ACTIVE, next.status());
    }
}
