package io.drover.device;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Every message type of the device context survives jackson-cbor (the binding in reference.conf),
 * and is bound to it rather than to any other serializer.
 */
class SerializationTest {

    private static final ActorTestKit testKit = ActorTestKit.create();
    private static final SerializationTestKit ser = new SerializationTestKit(testKit.system());
    private static final ObjectMapper JSON = new ObjectMapper();

    @AfterAll
    static void shutdown() {
        testKit.shutdownTestKit();
    }

    private static ObjectNode json(String s) throws Exception {
        return (ObjectNode) JSON.readTree(s);
    }

    private static void roundTrip(Object message) throws Exception {
        ser.verifySerialization(message, true);
        assertEquals("JacksonCborSerializer", SerializationExtension.get(testKit.system().classicSystem())
                .serializerFor(message.getClass()).getClass().getSimpleName(), message.getClass().getSimpleName());
    }

    @Test
    void everyCommandEventReplyAndStateRoundTrips() throws Exception {
        ActorRef<Device.Reply> ref = testKit.<Device.Reply>createTestProbe().ref();
        ObjectNode doc = json("{\"a\":1,\"b\":{\"c\":[1,2,\"x\"],\"d\":true}}");
        Instant at = Instant.parse("2026-03-04T05:06:07.123456Z");
        DeviceKey key = new DeviceKey("acme", "dev-1");
        Device.CommandRecord cmd = new Device.CommandRecord("c1", "reboot", doc, true, true, at, at.plusSeconds(60),
                Device.CommandStatus.RESPONDED, at, at, doc, null);
        Device.ConnectivityView cv = new Device.ConnectivityView(true, "node-1", at, null, null, at);
        Device.DeviceView view = new Device.DeviceView("acme", "dev-1", Device.Lifecycle.ACTIVE, "n", "t",
                List.of("l"), doc, at, at, at, 7, "abc", cv, "ab".repeat(32));
        Device.ShadowView shadow = new Device.ShadowView(doc, json("{}"), doc, json("{\"a\":{\"timestamp\":1}}"),
                json("{}"), 7, at);
        List<Object> all = List.of(
                key,
                new Device.Register("n", "t", List.of("a"), doc, ref),
                new Device.UpdateMetadata(null, "t", null, doc, ref),
                new Device.RotateCredentials(ref),
                new Device.Suspend(ref),
                new Device.Activate(ref),
                new Device.Decommission(ref),
                new Device.UpdateDesired(doc, Optional.of(3L), ref),
                new Device.UpdateReported(doc, Optional.empty(), ref),
                new Device.Get(ref),
                new Device.GetShadow(ref),
                new Device.Registered(key, "n", "t", List.of("a"), doc, "hash", at),
                new Device.MetadataUpdated("n", null, List.of(), doc, at),
                new Device.CredentialsRotated("hash2", at),
                new Device.Suspended(at),
                new Device.Activated(at),
                new Device.Decommissioned(at),
                new Device.DesiredUpdated(doc, 2, at),
                new Device.ReportedUpdated(json("{\"a\":null}"), 3, at),
                new Device.DeviceDetails(view),
                new Device.TokenIssued(view, "dt_secret"),
                new Device.ShadowDetails(shadow),
                new Device.Rejected(Device.Rejection.VERSION_MISMATCH, "no"),
                new Device.RecordConnected("s1", "pekko://drover@127.0.0.1:25520#42", at, ref),
                new Device.SessionNodeLost("pekko://drover@127.0.0.1:25520#42", ref),
                new Device.RecordDisconnected("s1", "connection-lost", at, ref),
                new Device.RecordSeen(at, ref),
                new Device.Connected("s1", "node-1", at),
                new Device.Disconnected("s1", "client-disconnected", at),
                new Device.ConnectivityChanged(key, false, "connection-lost", at),
                new Device.PushDesired(key, 3, doc),
                new Device.Kick(key, "suspended"),
                new Device.SetCertificate("ab".repeat(32), ref),
                new Device.CertificateSet("ab".repeat(32), at),
                new Device.RequestCommand("c1", "reboot", doc, true, false, java.time.Duration.ofSeconds(30), ref),
                new Device.AwaitCommand("c1", java.util.Set.of(Device.CommandStatus.RESPONDED), java.time.Duration.ofSeconds(5), ref),
                new Device.GetCommand("c1", ref),
                new Device.ListCommands(ref),
                new Device.RecordCommandDelivery("c1", false, "not subscribed", at, ref),
                new Device.RecordCommandResponse("c1", doc, at, ref),
                new Device.DeliverPending(ref),
                new Device.AwaitTimedOut("c1", "w1", ref),
                new Device.CommandRequested(cmd, at),
                new Device.CommandDelivered("c1", at),
                new Device.CommandResponded("c1", doc, at),
                new Device.CommandFailed("c1", "offline", at),
                new Device.CommandExpired("c1", at),
                new Device.DeliverCommand(key, cmd),
                new Device.CommandDetails(cmd),
                new Device.CommandList(List.of(cmd)),
                cmd,
                new Device.Connectivity(true, "s1", "node-1", at, null, null),
                cv,
                view,
                shadow,
                Device.State.empty(),
                Device.State.empty().apply(new Device.Registered(key, "n", "t", List.of("a"), doc, "hash", at))
                        .apply(new Device.DesiredUpdated(doc, 1, at))
                        .apply(new Device.Connected("s1", "node-1", at))
                        .apply(new Device.CommandRequested(cmd, at))
                        .apply(new Device.CertificateSet("ab".repeat(32), at)));
        for (Object message : all) {
            roundTrip(message);
        }
    }

    /** Events and snapshots journaled before version 2 held the session's ActorRef: they still read. */
    @Test
    void version1ConnectedEventsAndSnapshotsStillRead() throws Exception {
        var serialization = SerializationExtension.get(testKit.system().classicSystem());
        ObjectMapper cbor = org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider.get(testKit.system())
                .getOrCreate("jackson-cbor", Optional.empty());
        int id = serialization.serializerFor(Device.Connected.class).identifier();
        ObjectNode v1 = json("{\"sessionId\":\"s1\",\"node\":\"pekko://drover@127.0.0.1:25520\","
                + "\"session\":\"pekko://drover@127.0.0.1:25520/system/mqtt-session-courier#1\",\"at\":1767225600.0}");
        Object event = serialization.deserialize(cbor.writeValueAsBytes(v1), id, Device.Connected.class.getName()).get();
        assertEquals(new Device.Connected("s1", "pekko://drover@127.0.0.1:25520", Instant.parse("2026-01-01T00:00:00Z")), event);

        Device.State state = Device.State.empty()
                .apply(new Device.Registered(new DeviceKey("acme", "d1"), "n", "t", List.of(), json("{}"), "h",
                        Instant.parse("2026-01-01T00:00:00Z")))
                .apply(new Device.Connected("s1", "node-1", Instant.parse("2026-01-01T00:00:01Z")));
        ObjectNode stateV1 = cbor.valueToTree(state);
        ((ObjectNode) stateV1.get("connectivity")).put("session", "pekko://drover@127.0.0.1:25520/system/courier#1");
        assertEquals(state, serialization.deserialize(cbor.writeValueAsBytes(stateV1), id, Device.State.class.getName()).get());
    }
}
