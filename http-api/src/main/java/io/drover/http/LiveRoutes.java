package io.drover.http;

import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.extractOfferedWsProtocols;
import static org.apache.pekko.http.javadsl.server.Directives.handleWebSocketMessages;
import static org.apache.pekko.http.javadsl.server.Directives.handleWebSocketMessagesForProtocol;
import static org.apache.pekko.http.javadsl.server.Directives.path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.rules.Alarm;
import io.drover.persistence.TelemetrySample;
import io.drover.shard.DeviceClient;
import io.drover.telemetry.LiveFeed;
import io.prometheus.metrics.core.metrics.Counter;
import java.util.ArrayList;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BufferOverflowException;
import org.apache.pekko.stream.CompletionStrategy;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * {@code GET /api/v1/ws}: live telemetry over a WebSocket (API key auth, tenant-scoped).
 *
 * <p>Client → server (text frames, JSON): {@code {"type":"subscribe","id":"r1","deviceIds":["d1"],"keys":["t"]}}
 * ({@code keys} optional: all keys) and {@code {"type":"unsubscribe","id":"r2","deviceIds":["d1"]}};
 * {@code {"type":"subscribe","alarms":true}} (and unsubscribe) for the tenant's alarm changes, pushed as
 * {@code {"type":"alarm","alarm":{…as GET /api/v1/alarms/{id}}}}, and {@code {"type":"subscribe","connectivity":true}}
 * for its devices' session starts and ends, pushed as
 * {@code {"type":"connectivity","deviceId":..,"online":..,"at":..,"reason":..}} once the twin journaled them.
 * Server → client: {@code subscribed}/{@code unsubscribed} acknowledgements, {@code telemetry} frames
 * ({@code {"type":"telemetry","deviceId":..,"series":{"t":[{"ts":..,"value":..,"receivedAt":..}]}}}, receivedAt
 * the node's clock when the message was taken in, epoch ms), and {@code error}
 * frames with a stable {@code code}: a malformed message gets an error frame and the socket stays open.
 * Subscriptions are cluster-wide (the device's session may be on any node). Each socket has a bounded
 * buffer; a client that lets it fill up gets an {@code error} frame with code {@code slow-consumer} and
 * the socket is closed.
 */
public final class LiveRoutes {

    /** A parsed client request, handed to the outgoing stage so everything is applied in order. */
    private sealed interface Control {}

    private record Subscribe(String id, List<String> deviceIds, Set<String> keys) implements Control {}

    private record Unsubscribe(String id, List<String> deviceIds) implements Control {}

    /** Alarm changes of the tenant on or off. */
    private record AlarmSubscription(String id, boolean on) implements Control {}

    /** Session starts and ends of the tenant's devices on or off. */
    private record ConnectivitySubscription(String id, boolean on) implements Control {}

    private record ErrorFrame(String id, String code, String detail) implements Control {}

    private final ActorSystem<?> system;
    private final Optional<LiveFeed> live;
    private final Optional<org.apache.pekko.actor.typed.ActorRef<Topic.Command<Alarm.Changed>>> alarms;
    private final DeviceClient devices;
    private final ApiMetrics metrics;
    private final HttpSettings.Live settings;
    private final Counter closedSlow;
    private final Counter clientErrors;

    public LiveRoutes(ActorSystem<?> system, Optional<LiveFeed> live,
            Optional<org.apache.pekko.actor.typed.ActorRef<Topic.Command<Alarm.Changed>>> alarms, DeviceClient devices,
            ApiMetrics metrics, HttpSettings.Live settings) {
        this.system = system;
        this.live = live;
        this.alarms = alarms;
        this.devices = devices;
        this.metrics = metrics;
        this.settings = settings;
        this.closedSlow = Counter.builder().name("drover_ws_slow_consumers_closed_total")
                .help("WebSockets closed because the client did not keep up").register(metrics.registry());
        this.clientErrors = Counter.builder().name("drover_ws_client_errors_total")
                .help("WebSocket client messages answered with an error frame, by code").labelNames("code")
                .register(metrics.registry());
    }

    /** The subprotocol a browser offers with {@code "bearer.<key>"}; the server answers it. */
    static final String PROTOCOL = "drover";

    /** The API key in a {@code Sec-WebSocket-Protocol} header ({@code drover, bearer.<key>}), if any. */
    static Optional<String> keyOf(Optional<String> protocols) {
        return protocols.flatMap(p -> java.util.Arrays.stream(p.split(","))
                .map(String::trim).filter(x -> x.startsWith("bearer.") && x.length() > 7)
                .map(x -> x.substring(7)).findFirst());
    }

    /** The socket's credentials were deleted or expired: the socket says so and closes. */
    private enum Revoked { INSTANCE }

    /** How often an open socket checks that its key still exists and has not expired. */
    static final Duration RECHECK = Duration.ofSeconds(2);

    /** @param stillValid whether the key the socket opened with is still valid (checked every {@link #RECHECK}) */
    public Route route(Principal principal, Supplier<CompletionStage<Boolean>> stillValid) {
        return path("ws", () -> get(() -> {
            String tenant = principal.requireTenant();
            if (live.isEmpty()) {
                throw new ApiProblem(org.apache.pekko.http.javadsl.model.StatusCodes.SERVICE_UNAVAILABLE, "live-unavailable",
                        "live telemetry is not available on this node");
            }
            Flow<Message, Message, NotUsed> flow = flow(tenant, live.get(), stillValid);
            return extractOfferedWsProtocols(offered -> offered.contains(PROTOCOL)
                    ? handleWebSocketMessagesForProtocol(flow, PROTOCOL) : handleWebSocketMessages(flow));
        }));
    }

    Flow<Message, Message, NotUsed> flow(String tenant, LiveFeed feed, Supplier<CompletionStage<Boolean>> stillValid) {
        Pair<ActorRef, Source<Object, NotUsed>> out = Source.actorRef(
                        m -> Optional.<CompletionStrategy>empty(), // ends with the client (coupled flow below)
                        m -> Optional.empty(), settings.bufferSize(), OverflowStrategy.fail())
                .preMaterialize(system);
        ActorRef self = out.first();
        Map<String, Set<String>> subscriptions = new HashMap<>(); // only touched by the outgoing stage below
        boolean[] topicsOn = {false, false}; // alarms, connectivity; likewise
        Source<Object, NotUsed> revoked = Source.tick(RECHECK, RECHECK, "check")
                .mapAsync(1, t -> stillValid.get())
                .filter(ok -> !ok)
                .<Object>map(x -> Revoked.INSTANCE)
                .mapMaterializedValue(c -> NotUsed.getInstance());
        Source<Message, NotUsed> outgoing = out.second()
                .merge(revoked)
                .takeWhile(m -> m != Revoked.INSTANCE, true)
                .mapConcat(m -> m == Revoked.INSTANCE
                        ? List.of(frame(error(null, "credentials-revoked",
                                "the API key of this socket was deleted or expired")))
                        : handle(tenant, feed, self, subscriptions, topicsOn, m))
                .recoverWithRetries(1, BufferOverflowException.class, () -> {
                    closedSlow.inc();
                    return Source.single(frame(error(null, "slow-consumer",
                            "the client did not read fast enough; " + settings.bufferSize() + " frames were waiting")));
                });
        Sink<Message, NotUsed> incoming = Flow.<Message>create()
                .mapAsync(1, this::text)
                .mapAsync(1, text -> parse(tenant, text))
                .to(Sink.foreach(c -> self.tell(c, ActorRef.noSender())))
                .mapMaterializedValue(x -> NotUsed.getInstance());
        return Flow.fromSinkAndSourceCoupled(incoming, outgoing);
    }

    private List<Message> handle(String tenant, LiveFeed feed, ActorRef self, Map<String, Set<String>> subs,
            boolean[] topicsOn, Object m) {
        if (m instanceof Device.ConnectivityChanged c) {
            if (!topicsOn[1] || !c.key().tenantId().equals(tenant)) {
                return List.of();
            }
            ObjectNode body = ApiJson.MAPPER.createObjectNode();
            body.put("type", "connectivity");
            body.put("deviceId", c.key().deviceId());
            body.put("online", c.online());
            body.put("at", c.at().toString());
            if (c.reason() != null) {
                body.put("reason", c.reason());
            }
            return List.of(frame(body));
        }
        if (m instanceof ConnectivitySubscription a) {
            return List.of(frame(toggle(io.drover.device.ConnectivityTopic.get(system).topic(), "connectivity", 1, a.id(),
                    a.on(), topicsOn, self)));
        }
        if (m instanceof Alarm.Changed c) {
            if (!topicsOn[0] || !c.alarm().tenantId().equals(tenant)) {
                return List.of();
            }
            ObjectNode body = ApiJson.MAPPER.createObjectNode();
            body.put("type", "alarm");
            body.set("alarm", ApiJson.MAPPER.valueToTree(RuleDtos.AlarmDto.of(c.alarm())));
            return List.of(frame(body));
        }
        if (m instanceof AlarmSubscription a) {
            if (alarms.isEmpty()) {
                return List.of(frame(error(a.id(), "alarms-unavailable", "alarms are not available on this node")));
            }
            return List.of(frame(toggle(alarms.get(), "alarms", 0, a.id(), a.on(), topicsOn, self)));
        }
        if (m instanceof LiveFeed.Samples s) {
            Set<String> keys = subs.get(s.deviceId());
            if (keys == null || !s.tenantId().equals(tenant)) {
                return List.of();
            }
            ObjectNode body = ApiJson.MAPPER.createObjectNode();
            body.put("type", "telemetry");
            body.put("deviceId", s.deviceId());
            ObjectNode series = body.putObject("series");
            for (TelemetrySample x : s.samples()) {
                if (keys.isEmpty() || keys.contains(x.key())) {
                    ArrayNode arr = series.has(x.key()) ? (ArrayNode) series.get(x.key()) : series.putArray(x.key());
                    ObjectNode point = TelemetryRoutes.point(x);
                    if (x.receivedAt() != null) {
                        point.put("receivedAt", x.receivedAt().toEpochMilli()); // the ingest → display delay
                    }
                    arr.add(point);
                }
            }
            return series.isEmpty() ? List.of() : List.of(frame(body));
        }
        if (m instanceof Subscribe sub) {
            int after = subs.size();
            for (String d : sub.deviceIds()) {
                after += subs.containsKey(d) ? 0 : 1;
            }
            if (after > settings.maxSubscriptions()) {
                clientErrors.labelValues("too-many-subscriptions").inc();
                return List.of(frame(error(sub.id(), "too-many-subscriptions",
                        "at most " + settings.maxSubscriptions() + " devices per socket")));
            }
            for (String d : sub.deviceIds()) {
                if (!subs.containsKey(d)) {
                    feed.subscribe(tenant, d, self);
                }
                subs.put(d, sub.keys());
            }
            return List.of(frame(ack("subscribed", sub.id(), sub.deviceIds())));
        }
        if (m instanceof Unsubscribe u) {
            for (String d : u.deviceIds()) {
                if (subs.remove(d) != null) {
                    feed.unsubscribe(tenant, d, self);
                }
            }
            return List.of(frame(ack("unsubscribed", u.id(), u.deviceIds())));
        }
        if (m instanceof ErrorFrame e) {
            clientErrors.labelValues(e.code()).inc();
            return List.of(frame(error(e.id(), e.code(), e.detail())));
        }
        return List.of(); // pub-sub acknowledgements
    }

    /**
     * Turns the socket's subscription to a cluster-wide topic on or off (the topic watches the socket's actor: it
     * forgets the socket when the socket ends); the acknowledgement names the topic, e.g. {@code "alarms": true}.
     */
    private static <T> ObjectNode toggle(org.apache.pekko.actor.typed.ActorRef<Topic.Command<T>> topic, String name,
            int index, String id, boolean on, boolean[] topicsOn, ActorRef self) {
        org.apache.pekko.actor.typed.ActorRef<T> me = org.apache.pekko.actor.typed.javadsl.Adapter.toTyped(self)
                .<T>unsafeUpcast();
        if (on && !topicsOn[index]) {
            topic.tell(Topic.subscribe(me));
        } else if (!on && topicsOn[index]) {
            topic.tell(Topic.unsubscribe(me));
        }
        topicsOn[index] = on;
        ObjectNode n = ApiJson.MAPPER.createObjectNode();
        n.put("type", on ? "subscribed" : "unsubscribed");
        if (id != null) {
            n.put("id", id);
        }
        n.put(name, true);
        return n;
    }

    /** A frame's text, or the error frame that answers it (too large, binary). */
    private CompletionStage<Object> text(Message m) {
        ErrorFrame tooLarge = new ErrorFrame(null, "message-too-large",
                "messages are at most " + settings.maxMessageBytes() + " bytes");
        if (!m.isText()) {
            m.asBinaryMessage().getStreamedData().runWith(Sink.ignore(), system);
            return CompletableFuture.completedFuture(new ErrorFrame(null, "unsupported-frame", "send JSON in text frames"));
        }
        TextMessage t = m.asTextMessage();
        if (t.isStrict()) {
            String s = t.getStrictText();
            return CompletableFuture.completedFuture(s.length() > settings.maxMessageBytes() ? tooLarge : s);
        }
        return t.getStreamedText().limitWeighted(settings.maxMessageBytes(), s -> (long) s.length())
                .runFold("", String::concat, system).<Object>thenApply(s -> s)
                .exceptionally(e -> tooLarge);
    }

    private CompletionStage<Control> parse(String tenant, Object textOrError) {
        if (textOrError instanceof ErrorFrame e) {
            return done(e);
        }
        String text = (String) textOrError;
        JsonNode node;
        try {
            node = ApiJson.MAPPER.readTree(text);
        } catch (Exception e) {
            return done(new ErrorFrame(null, "malformed-message", "the message is not valid JSON"));
        }
        if (node == null || !node.isObject()) {
            return done(new ErrorFrame(null, "malformed-message", "a message is a JSON object with a \"type\""));
        }
        String id = node.hasNonNull("id") ? node.get("id").asText() : null;
        String type = node.path("type").asText("");
        if (!type.equals("subscribe") && !type.equals("unsubscribe")) {
            return done(new ErrorFrame(id, "unknown-type", "type is subscribe or unsubscribe"));
        }
        if (node.has("alarms")) {
            if (!node.get("alarms").isBoolean() || !node.get("alarms").booleanValue() || node.has("deviceIds")) {
                return done(new ErrorFrame(id, "invalid-message", "alarms is true, in a message without deviceIds"));
            }
            return done(new AlarmSubscription(id, type.equals("subscribe")));
        }
        if (node.has("connectivity")) {
            if (!node.get("connectivity").isBoolean() || !node.get("connectivity").booleanValue() || node.has("deviceIds")) {
                return done(new ErrorFrame(id, "invalid-message", "connectivity is true, in a message without deviceIds"));
            }
            return done(new ConnectivitySubscription(id, type.equals("subscribe")));
        }
        List<String> ids = new ArrayList<>();
        JsonNode idsNode = node.get("deviceIds");
        if (idsNode == null || !idsNode.isArray() || idsNode.isEmpty()) {
            return done(new ErrorFrame(id, "invalid-message", "deviceIds is a non-empty array of device ids"));
        }
        for (JsonNode d : idsNode) {
            if (!d.isTextual() || !DeviceKey.validDeviceId(d.asText())) {
                return done(new ErrorFrame(id, "invalid-message", "deviceIds holds device ids (strings)"));
            }
            ids.add(d.asText());
        }
        if (ids.size() > settings.maxSubscriptions()) { // before asking a twin per id; the total is checked when applied
            return done(new ErrorFrame(id, "too-many-subscriptions", "at most " + settings.maxSubscriptions() + " devices per socket"));
        }
        if (type.equals("unsubscribe")) {
            return done(new Unsubscribe(id, ids));
        }
        Set<String> keys = new LinkedHashSet<>();
        JsonNode keysNode = node.get("keys");
        if (keysNode != null) {
            if (!keysNode.isArray()) {
                return done(new ErrorFrame(id, "invalid-message", "keys is an array of telemetry keys"));
            }
            keysNode.forEach(k -> keys.add(k.asText()));
        }
        // Only registered devices of the caller's tenant can be watched.
        List<CompletableFuture<Boolean>> checks = new ArrayList<>();
        for (String d : ids) {
            checks.add(devices.get(new DeviceKey(tenant, d))
                    .thenApply(r -> r instanceof Device.DeviceDetails)
                    .exceptionally(e -> false).toCompletableFuture());
        }
        return CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new)).thenApply(v -> {
            for (int i = 0; i < ids.size(); i++) {
                if (!checks.get(i).join()) {
                    return new ErrorFrame(id, "device-not-found", "device " + ids.get(i) + " does not exist");
                }
            }
            return new Subscribe(id, ids, Set.copyOf(keys));
        });
    }

    private static CompletionStage<Control> done(Control c) {
        return CompletableFuture.completedFuture(c);
    }

    private static ObjectNode ack(String type, String id, List<String> deviceIds) {
        ObjectNode n = ApiJson.MAPPER.createObjectNode();
        n.put("type", type);
        if (id != null) {
            n.put("id", id);
        }
        ArrayNode a = n.putArray("deviceIds");
        deviceIds.forEach(a::add);
        return n;
    }

    private static ObjectNode error(String id, String code, String detail) {
        ObjectNode n = ApiJson.MAPPER.createObjectNode();
        n.put("type", "error");
        if (id != null) {
            n.put("id", id);
        }
        n.put("code", code);
        n.put("detail", detail);
        return n;
    }

    private static Message frame(ObjectNode n) {
        return TextMessage.create(n.toString());
    }
}
