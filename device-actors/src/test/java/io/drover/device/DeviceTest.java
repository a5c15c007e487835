package io.drover.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every command path of the device twin, with serialization of every command, event, reply and
 * state checked by the testkit (jackson-cbor round trip), and recovery checked by restart.
 */
class DeviceTest {

    private static final ActorTestKit testKit = ActorTestKit.create(
            EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger ids = new AtomicInteger();
    private static final DeviceSettings SETTINGS = new DeviceSettings(256, 100, 2);

    private EventSourcedBehaviorTestKit<Device.Command, Device.Event, Device.State> kit;
    private DeviceKey key;
    private TestSessions sessions;

    @AfterAll
    static void shutdown() {
        testKit.shutdownTestKit();
    }

    @BeforeEach
    void fresh() {
        key = new DeviceKey("acme", "dev-" + ids.incrementAndGet());
        sessions = new TestSessions(testKit.system().ignoreRef());
        kit = EventSourcedBehaviorTestKit.create(testKit.system(),
                Device.create(key.entityId(), SETTINGS, Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC),
                        sessions));
    }

    private static ObjectNode json(String s) {
        try {
            return (ObjectNode) JSON.readTree(s);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private Device.TokenIssued register() {
        CommandResultWithReply<Device.Command, Device.Event, Device.State, Device.Reply> r = kit.<Device.Reply>runCommand(
                rt -> new Device.Register("Boiler", "thermostat", List.of("b", "a", "b"), json("{\"floor\":2}"), rt));
        return assertInstanceOf(Device.TokenIssued.class, r.reply());
    }

    private Device.Rejected rejected(Device.Reply reply, Device.Rejection code) {
        Device.Rejected rej = assertInstanceOf(Device.Rejected.class, reply);
        assertEquals(code, rej.code(), rej.message());
        return rej;
    }

    @Test
    void registerIssuesTokenOnceAndStoresOnlyItsHash() {
        Device.TokenIssued issued = register();
        assertTrue(issued.token().startsWith("dt_"));
        Device.State state = kit.getState();
        assertEquals(Device.Lifecycle.PROVISIONED, state.lifecycle());
        assertEquals(Credentials.hash(issued.token()), state.tokenHash());
        assertEquals(List.of("a", "b"), state.labels());
        assertFalse(state.toString().contains(issued.token()), "the plain token is not part of the state");
        assertTrue(kit.<Device.Reply>runCommand(Device.Get::new).hasNoEvents(), "a read persists nothing");
    }

    @Test
    void commandsOnAMissingDeviceAreNotFound() {
        rejected(kit.<Device.Reply>runCommand(Device.Get::new).reply(), Device.Rejection.NOT_FOUND);
        rejected(kit.<Device.Reply>runCommand(r -> new Device.UpdateDesired(json("{}"), Optional.empty(), r)).reply(),
                Device.Rejection.NOT_FOUND);
        rejected(kit.<Device.Reply>runCommand(Device.Suspend::new).reply(), Device.Rejection.NOT_FOUND);
        assertEquals(Device.Lifecycle.NEW, kit.getState().lifecycle());
    }

    @Test
    void registerTwiceIsAConflict() {
        register();
        rejected(kit.<Device.Reply>runCommand(r -> new Device.Register("x", null, null, null, r)).reply(),
                Device.Rejection.ALREADY_EXISTS);
    }

    @Test
    void lifecycleMovesAndRejectsWhatAStateCannotTake() {
        register();
        assertInstanceOf(Device.DeviceDetails.class, kit.<Device.Reply>runCommand(Device.Activate::new).reply());
        assertEquals(Device.Lifecycle.ACTIVE, kit.getState().lifecycle());
        rejected(kit.<Device.Reply>runCommand(Device.Activate::new).reply(), Device.Rejection.INVALID_STATE);
        var suspended = kit.<Device.Reply>runCommand(Device.Suspend::new);
        assertInstanceOf(Device.Suspended.class, suspended.event());
        assertEquals(Device.Lifecycle.SUSPENDED, kit.getState().lifecycle());
        rejected(kit.<Device.Reply>runCommand(Device.Suspend::new).reply(), Device.Rejection.INVALID_STATE);
        kit.<Device.Reply>runCommand(Device.Activate::new);
        assertEquals(Device.Lifecycle.ACTIVE, kit.getState().lifecycle());
        var gone = kit.<Device.Reply>runCommand(Device.Decommission::new);
        assertInstanceOf(Device.Decommissioned.class, gone.event());
        rejected(kit.<Device.Reply>runCommand(Device.Get::new).reply(), Device.Rejection.DECOMMISSIONED);
        rejected(kit.<Device.Reply>runCommand(Device.Activate::new).reply(), Device.Rejection.DECOMMISSIONED);
        rejected(kit.<Device.Reply>runCommand(r -> new Device.Register("again", null, null, null, r)).reply(),
                Device.Rejection.ALREADY_EXISTS);
    }

    @Test
    void metadataMergesAndRepeatedPatchPersistsNothing() {
        register();
        var r = kit.<Device.Reply>runCommand(rt -> new Device.UpdateMetadata("Kitchen", null, List.of("z"),
                json("{\"floor\":null,\"room\":\"k\"}"), rt));
        Device.DeviceView v = assertInstanceOf(Device.DeviceDetails.class, r.reply()).device();
        assertEquals("Kitchen", v.name());
        assertEquals("thermostat", v.type());
        assertEquals(List.of("z"), v.labels());
        assertEquals(json("{\"room\":\"k\"}"), v.attributes());
        var again = kit.<Device.Reply>runCommand(rt -> new Device.UpdateMetadata("Kitchen", null, List.of("z"),
                json("{\"room\":\"k\"}"), rt));
        assertTrue(again.hasNoEvents());
    }

    @Test
    void aCertificateFingerprintIsACredentialToo() {
        register();
        var s1 = session();
        connect("s1", s1);
        rejected(kit.<Device.Reply>runCommand(r -> new Device.SetCertificate("not-hex", r)).reply(), Device.Rejection.INVALID_INPUT);
        String fp = "AB".repeat(32);
        Device.DeviceView v = assertInstanceOf(Device.DeviceDetails.class,
                kit.<Device.Reply>runCommand(r -> new Device.SetCertificate(fp, r)).reply()).device();
        assertEquals(fp.toLowerCase(), v.certificateFingerprint());
        assertEquals("credentials-changed", s1.expectMessageClass(Device.Kick.class).reason());
        assertTrue(kit.<Device.Reply>runCommand(r -> new Device.SetCertificate(fp, r)).hasNoEvents(), "same again: no change");
        kit.<Device.Reply>runCommand(r -> new Device.SetCertificate(null, r));
        assertEquals(null, kit.getState().certificateFingerprint());
    }

    @Test
    void rotationReplacesTheHash() {
        Device.TokenIssued first = register();
        Device.TokenIssued second = assertInstanceOf(Device.TokenIssued.class,
                kit.<Device.Reply>runCommand(Device.RotateCredentials::new).reply());
        assertNotEquals(first.token(), second.token());
        assertEquals(Credentials.hash(second.token()), kit.getState().tokenHash());
        assertFalse(Credentials.matches(first.token(), kit.getState().tokenHash()));
    }

    @Test
    void shadowDesiredReportedDeltaAndVersion() {
        register();
        var d = kit.<Device.Reply>runCommand(r -> new Device.UpdateDesired(json("{\"temp\":21,\"mode\":\"eco\"}"), Optional.empty(), r));
        Device.ShadowView s1 = assertInstanceOf(Device.ShadowDetails.class, d.reply()).shadow();
        assertEquals(1, s1.version());
        assertEquals(json("{\"temp\":21,\"mode\":\"eco\"}"), s1.delta());
        assertTrue(s1.desiredMetadata().get("temp").has("timestamp"));

        var rep = kit.<Device.Reply>runCommand(r -> new Device.UpdateReported(json("{\"temp\":21}"), Optional.empty(), r));
        Device.ShadowView s2 = assertInstanceOf(Device.ShadowDetails.class, rep.reply()).shadow();
        assertEquals(2, s2.version());
        assertEquals(json("{\"mode\":\"eco\"}"), s2.delta());

        // same patch again: no event, no new version
        var same = kit.<Device.Reply>runCommand(r -> new Device.UpdateReported(json("{\"temp\":21}"), Optional.empty(), r));
        assertTrue(same.hasNoEvents());
        assertEquals(2, assertInstanceOf(Device.ShadowDetails.class, same.reply()).shadow().version());

        // null deletes a key
        var del = kit.<Device.Reply>runCommand(r -> new Device.UpdateDesired(json("{\"mode\":null}"), Optional.of(2L), r));
        Device.ShadowView s3 = assertInstanceOf(Device.ShadowDetails.class, del.reply()).shadow();
        assertEquals(3, s3.version());
        assertEquals(json("{\"temp\":21}"), s3.desired());
        assertTrue(s3.delta().isEmpty());
        assertFalse(s3.desiredMetadata().has("mode"));
    }

    @Test
    void shadowOptimisticConcurrency() {
        register();
        kit.<Device.Reply>runCommand(r -> new Device.UpdateDesired(json("{\"a\":1}"), Optional.of(0L), r));
        var stale = kit.<Device.Reply>runCommand(r -> new Device.UpdateDesired(json("{\"a\":2}"), Optional.of(0L), r));
        rejected(stale.reply(), Device.Rejection.VERSION_MISMATCH);
        assertTrue(stale.hasNoEvents());
        assertEquals(1, kit.getState().shadowVersion());
    }

    @Test
    void shadowSizeCapRejects() {
        register();
        String big = "x".repeat(300);
        var r = kit.<Device.Reply>runCommand(rt -> new Device.UpdateDesired(json("{\"blob\":\"" + big + "\"}"), Optional.empty(), rt));
        rejected(r.reply(), Device.Rejection.SHADOW_TOO_LARGE);
        assertTrue(r.hasNoEvents());
    }

    @Test
    void suspendedDeviceKeepsItsShadowApi() {
        register();
        kit.<Device.Reply>runCommand(Device.Suspend::new);
        var r = kit.<Device.Reply>runCommand(rt -> new Device.UpdateDesired(json("{\"a\":1}"), Optional.empty(), rt));
        assertInstanceOf(Device.ShadowDetails.class, r.reply());
    }

    // ---------------------------------------------------------------- connectivity and the session

    @org.junit.jupiter.api.Test
    void aNotificationGoesToTheOnlineSessionAndIsRefusedOffline() {
        register();
        ObjectNode body = json("{\"ruleId\":\"r\"}");
        rejected(kit.<Device.Reply>runCommand(r -> new Device.Notify(body, r)).reply(), Device.Rejection.DEVICE_OFFLINE);
        var s1 = session();
        connect("s1", s1);
        var sent = kit.<Device.Reply>runCommand(r -> new Device.Notify(body, r));
        assertTrue(sent.hasNoEvents(), "never journaled");
        assertInstanceOf(Device.NotificationSent.class, sent.reply());
        assertEquals(body, s1.expectMessageClass(Device.Notification.class).body());
    }

    private org.apache.pekko.actor.testkit.typed.javadsl.TestProbe<Device.Outbound> session() {
        return testKit.createTestProbe(Device.Outbound.class);
    }

    /** Connects on node "node-a" with {@code s} as that node's session courier. */
    private Device.DeviceView connect(String sessionId, org.apache.pekko.actor.testkit.typed.javadsl.TestProbe<Device.Outbound> s) {
        return connect(sessionId, "node-a", Instant.parse("2026-01-01T00:00:01Z"), s);
    }

    private Device.DeviceView connect(String sessionId, String node, Instant at,
            org.apache.pekko.actor.testkit.typed.javadsl.TestProbe<Device.Outbound> s) {
        sessions.couriers.put(node, s);
        return assertInstanceOf(Device.DeviceDetails.class, kit.<Device.Reply>runCommand(
                r -> new Device.RecordConnected(sessionId, node, at, r)).reply()).device();
    }

    @Test
    void aRemovedNodeTakesItsSessionOfflineAndAnotherNodeChangesNothing() {
        register();
        connect("s1", session());
        var elsewhere = kit.<Device.Reply>runCommand(r -> new Device.SessionNodeLost("node-b", r));
        assertTrue(elsewhere.hasNoEvents(), "a node the device is not on");
        assertTrue(((Device.DeviceDetails) elsewhere.reply()).device().connectivity().online());
        var lost = kit.<Device.Reply>runCommand(r -> new Device.SessionNodeLost("node-a", r));
        Device.ConnectivityView c = ((Device.DeviceDetails) lost.reply()).device().connectivity();
        assertFalse(c.online());
        assertEquals("node-lost", c.lastDisconnectReason());
        assertFalse(sessions.watched.containsValue("node-a"), "an offline twin watches no node");
        rejected(kit.<Device.Reply>runCommand(r -> new Device.RequestCommand("c1", "x", null, false, false,
                java.time.Duration.ofMinutes(1), r)).reply(), Device.Rejection.DEVICE_OFFLINE);
    }

    @Test
    void aWatchedNodeThatIsRemovedIsReportedToTheTwin() {
        register();
        connect("s1", session());
        assertEquals("node-a", sessions.watched.values().iterator().next(), "an online twin watches its session's node");
        sessions.lose("node-a");
        var probe = testKit.createTestProbe();
        probe.awaitAssert(() -> {
            assertFalse(kit.getState().connectivity().online());
            assertEquals("node-lost", kit.getState().connectivity().lastDisconnectReason());
            return null;
        });
    }

    @Test
    void aSessionWhoseNodeIsGoneAfterRecoveryIsNotShownOnline() {
        register();
        connect("s1", session());
        sessions.gone.add("node-a"); // e.g. every node restarted: node-a's incarnation is no member any more
        kit.restart();
        Device.DeviceView v = assertInstanceOf(Device.DeviceDetails.class,
                kit.<Device.Reply>runCommand(Device.Get::new).reply()).device();
        assertFalse(v.connectivity().online(), "offline at once, before the fact is journaled");
        var probe = testKit.createTestProbe();
        probe.awaitAssert(() -> {
            assertEquals("node-lost", kit.getState().connectivity().lastDisconnectReason());
            return null;
        });
        sessions.gone.remove("node-a");
        kit.restart();
        assertFalse(kit.getState().connectivity().online(), "the recorded fact survives another recovery");
    }

    @Test
    void theNewestSessionWinsWhateverArrivesLate() {
        register();
        Instant t1 = Instant.parse("2026-01-01T00:00:01Z");
        var nodeA = session();
        var nodeB = session();
        connect("s1", "node-a", t1, nodeA);
        connect("s2", "node-b", t1.plusSeconds(5), nodeB);
        assertEquals("session-replaced", nodeA.expectMessageClass(Device.Kick.class).reason(),
                "the old node ends the stale session");
        var late = kit.<Device.Reply>runCommand(r -> new Device.RecordConnected("s0", "node-a", t1.minusSeconds(1), r));
        assertTrue(late.hasNoEvents(), "an older session's connect that arrives late is not recorded");
        assertEquals("node-b", ((Device.DeviceDetails) late.reply()).device().connectivity().node());
        assertEquals("session-replaced", nodeA.expectMessageClass(Device.Kick.class).reason());
        var lateEnd = kit.<Device.Reply>runCommand(r -> new Device.RecordDisconnected("s1", "connection-lost", t1.plusSeconds(6), r));
        assertTrue(lateEnd.hasNoEvents(), "the old node's disconnect does not take the device offline");
        assertTrue(((Device.DeviceDetails) lateEnd.reply()).device().connectivity().online());
        var again = kit.<Device.Reply>runCommand(r -> new Device.RecordConnected("s2", "node-b", t1.plusSeconds(5), r));
        assertTrue(again.hasNoEvents(), "the same connect reported twice is recorded once");
        var sameNodeNewer = kit.<Device.Reply>runCommand(r -> new Device.RecordConnected("s3", "node-b", t1.plusSeconds(9), r));
        assertInstanceOf(Device.Connected.class, sameNodeNewer.events().get(0));
        nodeB.expectNoMessage(java.time.Duration.ofMillis(100)); // same broker: it took the session over itself
    }

    @Test
    void aFirstConnectionActivatesAndIsRecorded() {
        register();
        var probe = session();
        Device.DeviceView v = connect("s1", probe);
        assertEquals(Device.Lifecycle.ACTIVE, v.lifecycle());
        assertTrue(v.connectivity().online());
        assertEquals("node-a", v.connectivity().node());
        probe.expectNoMessage(java.time.Duration.ofMillis(100)); // empty delta: nothing to push
        var seen = kit.<Device.Reply>runCommand(r -> new Device.RecordSeen(Instant.parse("2026-01-01T00:05:00Z"), r));
        assertTrue(seen.hasNoEvents(), "traffic is not journaled");
        assertEquals(Instant.parse("2026-01-01T00:05:00Z"),
                ((Device.DeviceDetails) seen.reply()).device().connectivity().lastSeenAt());
        var stale = kit.<Device.Reply>runCommand(r -> new Device.RecordDisconnected("s0", "old", Instant.now(), r));
        assertTrue(stale.hasNoEvents(), "an older session ending changes nothing");
        var gone = kit.<Device.Reply>runCommand(r -> new Device.RecordDisconnected("s1", "connection-lost",
                Instant.parse("2026-01-01T00:06:00Z"), r));
        Device.ConnectivityView c = ((Device.DeviceDetails) gone.reply()).device().connectivity();
        assertFalse(c.online());
        assertEquals("connection-lost", c.lastDisconnectReason());
        assertEquals(Instant.parse("2026-01-01T00:06:00Z"), c.lastDisconnectedAt());
        assertEquals(kit.getState(), kit.restart().state(), "connectivity is recovered");
    }

    @Test
    void desiredChangesArePushedToTheSessionAndCaughtUpOnReconnect() {
        register();
        var first = session();
        connect("s1", first);
        kit.<Device.Reply>runCommand(r -> new Device.UpdateDesired(json("{\"temp\":21}"), Optional.empty(), r));
        Device.PushDesired push = first.expectMessageClass(Device.PushDesired.class);
        assertEquals(json("{\"temp\":21}"), push.delta());
        assertEquals(1, push.version());
        kit.<Device.Reply>runCommand(r -> new Device.RecordDisconnected("s1", "gone", Instant.now(), r));
        kit.<Device.Reply>runCommand(r -> new Device.UpdateDesired(json("{\"mode\":\"eco\"}"), Optional.empty(), r));
        first.expectNoMessage(java.time.Duration.ofMillis(100));
        var second = session();
        connect("s2", second);
        assertEquals(json("{\"temp\":21,\"mode\":\"eco\"}"), second.expectMessageClass(Device.PushDesired.class).delta(),
                "the device catches up on what it missed");
        kit.<Device.Reply>runCommand(r -> new Device.UpdateReported(json("{\"temp\":21,\"mode\":\"eco\"}"), Optional.empty(), r));
        second.expectNoMessage(java.time.Duration.ofMillis(100));
    }

    @Test
    void suspensionRotationAndDecommissioningEndTheSession() {
        register();
        var s1 = session();
        connect("s1", s1);
        kit.<Device.Reply>runCommand(Device.RotateCredentials::new);
        assertEquals("credentials-rotated", s1.expectMessageClass(Device.Kick.class).reason());
        kit.<Device.Reply>runCommand(Device.Suspend::new);
        assertEquals("suspended", s1.expectMessageClass(Device.Kick.class).reason());
        rejected(kit.<Device.Reply>runCommand(r -> new Device.RecordConnected("s2", "n", Instant.now(), r)).reply(),
                Device.Rejection.INVALID_STATE);
        kit.<Device.Reply>runCommand(Device.Activate::new);
        kit.<Device.Reply>runCommand(Device.Decommission::new);
        assertEquals("decommissioned", s1.expectMessageClass(Device.Kick.class).reason());
    }

    // ---------------------------------------------------------------- commands (RPC)

    private Device.CommandRecord command(Device.Reply r) {
        return assertInstanceOf(Device.CommandDetails.class, r).command();
    }

    @Test
    void aTwoWayCommandIsDeliveredAnsweredOnceAndAwaited() {
        register();
        var session = session();
        connect("s1", session);
        Device.CommandRecord req = command(kit.<Device.Reply>runCommand(r -> new Device.RequestCommand("c1", "reboot",
                json("{\"delay\":5}"), true, false, java.time.Duration.ofMinutes(1), r)).reply());
        assertEquals(Device.CommandStatus.REQUESTED, req.status());
        assertEquals("c1", session.expectMessageClass(Device.DeliverCommand.class).command().id());
        var again = kit.<Device.Reply>runCommand(r -> new Device.RequestCommand("c1", "reboot", null, true, false,
                java.time.Duration.ofMinutes(1), r));
        assertTrue(again.hasNoEvents(), "the same command id again is idempotent");

        var waiting = testKit.<Device.Reply>createTestProbe();
        kit.runCommand(new Device.AwaitCommand("c1", java.util.Set.of(Device.CommandStatus.RESPONDED),
                java.time.Duration.ofSeconds(10), waiting.ref()));
        kit.<Device.Reply>runCommand(r -> new Device.RecordCommandDelivery("c1", true, null, Instant.now(), r));
        waiting.expectNoMessage(java.time.Duration.ofMillis(100));
        var answered = kit.<Device.Reply>runCommand(r -> new Device.RecordCommandResponse("c1", json("{\"ok\":true}"),
                Instant.now(), r));
        assertEquals(Device.CommandStatus.RESPONDED, command(answered.reply()).status());
        Device.CommandRecord got = command(waiting.receiveMessage());
        assertEquals(json("{\"ok\":true}"), got.response());
        var duplicate = kit.<Device.Reply>runCommand(r -> new Device.RecordCommandResponse("c1", json("{\"ok\":false}"),
                Instant.now(), r));
        assertTrue(duplicate.hasNoEvents(), "a duplicate response is ignored");
        assertEquals(json("{\"ok\":true}"), kit.getState().command("c1").orElseThrow().response());
    }

    @Test
    void anAwaitThatRunsOutAnswersWithTheCurrentState() {
        register();
        connect("s1", session());
        kit.<Device.Reply>runCommand(r -> new Device.RequestCommand("c2", "x", null, true, false, java.time.Duration.ofMinutes(1), r));
        var waiting = testKit.<Device.Reply>createTestProbe();
        kit.runCommand(new Device.AwaitCommand("c2", java.util.Set.of(Device.CommandStatus.RESPONDED),
                java.time.Duration.ofMillis(200), waiting.ref()));
        assertEquals(Device.CommandStatus.REQUESTED, command(waiting.receiveMessage(java.time.Duration.ofSeconds(3))).status());
    }

    @Test
    void offlineDevicesGetPersistentCommandsOnReconnectUntilTheirTtl() {
        TestClock clock = new TestClock();
        kit = EventSourcedBehaviorTestKit.create(testKit.system(), Device.create(key.entityId(), SETTINGS, clock, sessions));
        register();
        rejected(kit.<Device.Reply>runCommand(r -> new Device.RequestCommand("c3", "x", null, false, false,
                java.time.Duration.ofMinutes(1), r)).reply(), Device.Rejection.DEVICE_OFFLINE);
        kit.<Device.Reply>runCommand(r -> new Device.RequestCommand("c4", "x", null, false, true, java.time.Duration.ofHours(1), r));
        kit.<Device.Reply>runCommand(r -> new Device.RequestCommand("c5", "y", null, false, true, java.time.Duration.ofMinutes(1), r));
        clock.advance(java.time.Duration.ofMinutes(2)); // c5's time to live passes while the device is away
        var session = session();
        connect("s1", session);
        assertEquals("c4", session.expectMessageClass(Device.DeliverCommand.class).command().id());
        session.expectNoMessage(java.time.Duration.ofMillis(100));
        assertEquals(Device.CommandStatus.EXPIRED, kit.getState().command("c5").orElseThrow().status(),
                "expired on reconnect, never delivered");
        kit.<Device.Reply>runCommand(r -> new Device.RecordCommandDelivery("c4", false, "not subscribed", Instant.now(), r));
        assertEquals(Device.CommandStatus.REQUESTED, kit.getState().command("c4").orElseThrow().status(),
                "a persistent command stays queued when a delivery fails");
        kit.<Device.Reply>runCommand(Device.DeliverPending::new);
        assertEquals("c4", session.expectMessageClass(Device.DeliverCommand.class).command().id());
    }

    @Test
    void anUnansweredTwoWayCommandExpiresAtItsTimeout() throws Exception {
        register();
        connect("s1", session());
        kit.<Device.Reply>runCommand(r -> new Device.RequestCommand("t1", "x", null, true, false,
                java.time.Duration.ofMinutes(1), java.time.Duration.ofMillis(300), r));
        var waiting = testKit.<Device.Reply>createTestProbe();
        kit.runCommand(new Device.AwaitCommand("t1", java.util.Set.of(Device.CommandStatus.RESPONDED,
                Device.CommandStatus.EXPIRED), java.time.Duration.ofSeconds(10), waiting.ref()));
        kit.<Device.Reply>runCommand(r -> new Device.RecordCommandDelivery("t1", true, null, Instant.now(), r));
        Device.CommandRecord expired = command(waiting.receiveMessage(java.time.Duration.ofSeconds(5)));
        assertEquals(Device.CommandStatus.EXPIRED, expired.status(), "expired by the twin's timer, answer or not");
        assertNotNull(expired.deliveredAt(), "it had been delivered");
        assertTrue(expired.failure().contains("no answer"), expired.failure());
        var late = kit.<Device.Reply>runCommand(r -> new Device.RecordCommandResponse("t1", json("{\"ok\":1}"),
                Instant.now(), r));
        assertTrue(late.hasNoEvents(), "a late answer changes nothing");
    }

    @Test
    void aWaitersTimerThatFiresAfterItsAnswerChangesNothing() {
        register();
        var probe = testKit.<Device.Reply>createTestProbe();
        // the timer of a waiter that notifyWaiters answered (and whose list it removed) arrives anyway
        kit.runCommand(new Device.AwaitTimedOut("gone", "w-1", probe.ref()));
        probe.expectNoMessage(java.time.Duration.ofMillis(100));
        assertInstanceOf(Device.DeviceDetails.class, kit.<Device.Reply>runCommand(Device.Get::new).reply(),
                "the twin is alive and answers (it used to crash here: removeIf on List.of())");
    }

    @Test
    void answersHaveASizeCap() {
        register();
        connect("s1", session());
        kit.<Device.Reply>runCommand(r -> new Device.RequestCommand("a1", "x", null, true, false,
                java.time.Duration.ofMinutes(1), java.time.Duration.ofMinutes(1), r));
        kit.<Device.Reply>runCommand(r -> new Device.RecordCommandDelivery("a1", true, null, Instant.now(), r));
        String big = "{\"blob\":\"" + "x".repeat(20 * 1024) + "\"}";
        var refused = kit.<Device.Reply>runCommand(r -> new Device.RecordCommandResponse("a1", json(big), Instant.now(), r));
        rejected(refused.reply(), Device.Rejection.INVALID_INPUT);
        assertTrue(refused.hasNoEvents());
        assertEquals(Device.CommandStatus.DELIVERED, kit.getState().command("a1").orElseThrow().status());
    }

    @Test
    void deliveredOneWayCommandsAreFinishedAndTheKeptSettingIsHonoured() {
        kit = EventSourcedBehaviorTestKit.create(testKit.system(),
                Device.create(key.entityId(), new DeviceSettings(4096, 100, 2, 3, 20), Clock.systemUTC(), sessions));
        register();
        connect("s1", session());
        for (int i = 1; i <= 5; i++) {
            String id = "o" + i;
            kit.<Device.Reply>runCommand(r -> new Device.RequestCommand(id, "x", null, false, false,
                    java.time.Duration.ofMinutes(1), r));
            kit.<Device.Reply>runCommand(r -> new Device.RecordCommandDelivery(id, true, null, Instant.now(), r));
        }
        assertEquals(List.of("o3", "o4", "o5"), kit.getState().commands().stream().map(Device.CommandRecord::id).toList(),
                "commands-kept = 3, and a delivered one-way command is finished (so it may go)");
        assertEquals(List.of("o3", "o4", "o5"), kit.restart().state().commands().stream()
                .map(Device.CommandRecord::id).toList(), "the same after replay");
    }

    @Test
    void aSessionWhoseCredentialIsNoLongerTheDevicesIsRefused() {
        Device.TokenIssued issued = register();
        String hash = Credentials.hash(issued.token());
        var ok = kit.<Device.Reply>runCommand(r -> new Device.RecordConnected("s1", "node-1", Instant.now(),
                Device.RecordConnected.token(hash), r));
        assertInstanceOf(Device.DeviceDetails.class, ok.reply());
        kit.<Device.Reply>runCommand(Device.RotateCredentials::new);
        var stale = kit.<Device.Reply>runCommand(r -> new Device.RecordConnected("s2", "node-2", Instant.now(),
                Device.RecordConnected.token(hash), r));
        rejected(stale.reply(), Device.Rejection.BAD_CREDENTIALS);
        assertTrue(stale.hasNoEvents(), "not recorded as connected");
        var wrongCert = kit.<Device.Reply>runCommand(r -> new Device.RecordConnected("s3", "node-2", Instant.now(),
                Device.RecordConnected.certificate("ab".repeat(32)), r));
        rejected(wrongCert.reply(), Device.Rejection.BAD_CREDENTIALS);
    }

    @Test
    void pendingCommandsAreBounded() {
        kit = EventSourcedBehaviorTestKit.create(testKit.system(),
                Device.create(key.entityId(), new DeviceSettings(4096, 100, 2, 50, 2), Clock.systemUTC()));
        register();
        for (String id : new String[] {"p1", "p2"}) {
            kit.<Device.Reply>runCommand(r -> new Device.RequestCommand(id, "x", null, false, true, java.time.Duration.ofHours(1), r));
        }
        rejected(kit.<Device.Reply>runCommand(r -> new Device.RequestCommand("p3", "x", null, false, true,
                java.time.Duration.ofHours(1), r)).reply(), Device.Rejection.TOO_MANY_PENDING);
        rejected(kit.<Device.Reply>runCommand(r -> new Device.GetCommand("nope", r)).reply(), Device.Rejection.COMMAND_NOT_FOUND);
    }

    @Test
    void recoveryFromSnapshotRestoresEverything() {
        kit = EventSourcedBehaviorTestKit.create(testKit.system(),
                Device.create(key.entityId(), new DeviceSettings(4096, 2, 2), Clock.systemUTC()));
        register();
        for (int i = 0; i < 5; i++) {
            int n = i;
            kit.<Device.Reply>runCommand(r -> new Device.UpdateReported(json("{\"n\":" + n + "}"), Optional.empty(), r));
        }
        Device.State before = kit.getState();
        assertEquals(before, kit.restart().state());
    }

    @Test
    void recoveryRestoresEverything() {
        Device.TokenIssued issued = register();
        kit.<Device.Reply>runCommand(r -> new Device.UpdateDesired(json("{\"t\":{\"lo\":18,\"hi\":22}}"), Optional.empty(), r));
        kit.<Device.Reply>runCommand(r -> new Device.UpdateReported(json("{\"t\":{\"lo\":18}}"), Optional.empty(), r));
        kit.<Device.Reply>runCommand(Device.Activate::new);
        Device.State before = kit.getState();
        var restarted = kit.restart();
        Device.State after = restarted.state();
        assertEquals(before, after);
        assertEquals(Credentials.hash(issued.token()), after.tokenHash());
        assertEquals(2, after.shadowVersion());
        assertEquals(json("{\"t\":{\"hi\":22}}"), after.shadowView().delta());
    }
}
