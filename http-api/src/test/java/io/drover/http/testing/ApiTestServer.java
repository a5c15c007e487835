package io.drover.http.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.http.ApiJson;
import io.drover.http.ApiKeys;
import io.drover.http.ApiMetrics;
import io.drover.http.HttpApi;
import io.drover.http.HttpSettings;
import io.drover.http.RulesApi;
import io.drover.rules.Alarm;
import io.drover.rules.RuleCompiler;
import io.drover.rules.RulesSettings;
import io.drover.shard.RulesSharding;
import io.drover.telemetry.TelemetryStreams;
import io.drover.persistence.ApiKey;
import io.drover.persistence.ShadowHistory;
import io.drover.persistence.readside.DeviceListProjection;
import io.drover.shard.DeviceClient;
import io.drover.shard.DeviceSharding;
import io.drover.persistence.Retention;
import io.drover.persistence.RetentionPolicy;
import io.drover.telemetry.LiveFeed;
import io.drover.telemetry.TelemetryHub;
import io.drover.telemetry.TelemetrySettings;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.query.javadsl.PersistenceTestKitReadJournal;

/**
 * The whole API bound to a real port on loopback, over real sharded twins on an in-memory journal
 * and in-memory stores; requests go through {@link java.net.http.HttpClient}, and every answer is checked against the
 * OpenAPI document ({@link OpenApiContract}). Device ids starting
 * with {@code slow-} never answer (their asks time out), to exercise the 503 path.
 */
public final class ApiTestServer implements AutoCloseable {

    public final ActorSystem<Void> system;
    public final InMemoryAccessStore access = new InMemoryAccessStore();
    public final InMemoryDeviceDirectory directory = new InMemoryDeviceDirectory();
    public final InMemoryTelemetryStore telemetry = new InMemoryTelemetryStore();
    public final InMemoryAlarmDirectory alarms = new InMemoryAlarmDirectory();
    public final InMemoryRuleErrorStore ruleErrors = new InMemoryRuleErrorStore();
    public final InMemoryIdempotencyStore idempotency = new InMemoryIdempotencyStore();
    public final String platformKey;
    public final TelemetryHub hub;
    public final LiveFeed live;
    /** The sharded twins themselves (what a test does as the MQTT gateway would, e.g. a session opening). */
    public final DeviceClient twins;
    private final ServerBinding binding;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public ApiTestServer(Map<String, Object> overrides) throws Exception {
        Config config = ConfigFactory.parseMap(overrides)
                .withFallback(ConfigFactory.parseString("""
                        pekko.actor.provider = cluster
                        pekko.remote.artery.canonical.hostname = 127.0.0.1
                        pekko.remote.artery.canonical.port = 0
                        pekko.loglevel = WARNING
                        drover.http.port = 0
                        drover.shard-config.ask-timeout = 3s
                        """))
                .withFallback(PersistenceTestKitPlugin.getInstance().config())
                .withFallback(PersistenceTestKitSnapshotPlugin.config())
                .withFallback(ConfigFactory.load())
                .resolve();
        system = ActorSystem.create(Behaviors.empty(), "api-test", config);
        Cluster cluster = Cluster.get(system);
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (cluster.selfMember().status() != MemberStatus.up()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("test node did not come up");
            }
            Thread.sleep(50);
        }
        DeviceClient real = DeviceSharding.init(system);
        twins = real;
        // the read side as the node runs it (DeviceListProjection's handler), over the in-memory journal's tags
        PersistenceTestKitReadJournal journal = PersistenceQuery.get(system)
                .getReadJournalFor(PersistenceTestKitReadJournal.class, PersistenceTestKitReadJournal.Identifier());
        // (polled: the in-memory journal's live tag query missed events written while it started)
        follow(journal, Device.eventTags(io.drover.device.DeviceSettings.fromConfig(config).eventTags()),
                (pid, event) -> DeviceListProjection.apply(directory, pid, (Device.Event) event));
        // the alarm list as the node runs it (every alarm event carries the alarm it left)
        follow(journal, Alarm.eventTags(RulesSettings.fromConfig(config).eventTags()),
                (pid, event) -> alarms.upsert(((Alarm.Event) event).alarm()));
        DeviceClient devices = new SlowAware(real);
        HttpSettings settings = HttpSettings.fromConfig(config);
        ShadowHistory history = new ShadowHistory(system, journal);
        ApiMetrics metrics = new ApiMetrics(new PrometheusRegistry(), false);
        RetentionPolicy retention = new RetentionPolicy(access, Retention.fromConfig(config), Duration.ofSeconds(1), 100);
        hub = new TelemetryHub(system, telemetry, TelemetrySettings.fromConfig(config), new PrometheusRegistry(),
                Clock.systemUTC(), retention);
        live = new LiveFeed(system).follow(hub, system);
        RulesSharding rules = RulesSharding.init(system);
        TelemetryStreams.Rules engine = TelemetryStreams.initRules(system, new TelemetryStreams.Started(hub, live),
                telemetry, rules, real, ruleErrors, new PrometheusRegistry());
        RulesApi rulesApi = new RulesApi(rules.rules(), rules.alarms(), new RuleCompiler(rules.settings()), ruleErrors,
                engine.backtester(), alarms, rules.alarmChanges());
        var routes = HttpApi.routes(system, settings, devices, access, directory, history, hub, telemetry, retention,
                idempotency, Optional.of(live), rulesApi,
                () -> CompletableFuture.completedFuture(Map.of("cassandra", true,
                        "cluster-member-up", cluster.selfMember().status() == MemberStatus.up())),
                metrics, Clock.systemUTC());
        binding = Http.get(system).newServerAt("127.0.0.1", 0).bind(routes.route()).toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        platformKey = new ApiKeys(access, Clock.systemUTC()).issue(ApiKey.PLATFORM_TENANT, ApiKey.Role.PLATFORM_ADMIN,
                "test", Optional.empty()).toCompletableFuture().get().secret();
    }

    /**
     * A read side as the node runs it, over the in-memory journal: every event of {@code tags}, once each and in each
     * entity's order, handed to {@code apply} (the projection's own handler code).
     */
    private void follow(PersistenceTestKitReadJournal journal, java.util.List<String> tags,
            java.util.function.BiFunction<String, Object, CompletionStage<?>> apply) {
        Map<String, Long> applied = new java.util.HashMap<>(); // stream-confined
        org.apache.pekko.stream.javadsl.Source.tick(Duration.ZERO, Duration.ofMillis(50), "tick")
                .flatMapConcat(t -> org.apache.pekko.stream.javadsl.Source.from(tags)
                        .flatMapConcat(tag -> journal.currentEventsByTag(tag, org.apache.pekko.persistence.query.Offset.noOffset())))
                .mapAsync(1, e -> e.sequenceNr() <= applied.getOrDefault(e.persistenceId(), 0L)
                        ? CompletableFuture.completedFuture(null)
                        : apply.apply(e.persistenceId(), e.event()).thenApply(d -> applied.put(e.persistenceId(), e.sequenceNr())))
                .runWith(org.apache.pekko.stream.javadsl.Sink.ignore(), system);
    }

    /** Asks to devices named slow-* time out, like a twin that cannot answer. */
    private static final class SlowAware implements DeviceClient {
        private final DeviceClient real;

        SlowAware(DeviceClient real) {
            this.real = real;
        }

        @Override
        public Duration askTimeout() {
            return real.askTimeout();
        }

        @Override
        public CompletionStage<Device.Reply> ask(DeviceKey key, Function<ActorRef<Device.Reply>, Device.Command> command,
                Duration timeout) {
            if (key.deviceId().startsWith("slow-")) {
                return CompletableFuture.failedFuture(new TimeoutException("Ask timed out on device " + key));
            }
            return real.ask(key, command, timeout);
        }
    }

    public String base() {
        return "http://127.0.0.1:" + binding.localAddress().getPort();
    }

    /** A tenant of a test's own and its first admin key. */
    public record TestTenant(String id, String adminKey) {}

    private final java.util.concurrent.atomic.AtomicInteger tenants = new java.util.concurrent.atomic.AtomicInteger();

    /** Creates a tenant with a unique id starting with {@code prefix}; asserts the 201 and the admin role. */
    public TestTenant newTenant(String prefix) throws Exception {
        String id = prefix + tenants.incrementAndGet() + "-" + Long.toString(System.nanoTime(), 36);
        Reply r = call("POST", "/api/v1/tenants", platformKey, "{\"id\":\"" + id + "\",\"name\":\"T\"}");
        org.junit.jupiter.api.Assertions.assertEquals(201, r.status(), r.raw().body());
        org.junit.jupiter.api.Assertions.assertEquals("admin", r.body().at("/adminKey/apiKey/role").asText());
        return new TestTenant(id, r.body().at("/adminKey/key").asText());
    }

    /** Asserts a problem+json answer with this status and stable code, and no stack trace in it. */
    public static void problem(Reply r, int status, String code) {
        org.junit.jupiter.api.Assertions.assertEquals(status, r.status(), r.raw().body());
        org.junit.jupiter.api.Assertions.assertEquals("application/problem+json", r.header("Content-Type"));
        org.junit.jupiter.api.Assertions.assertEquals(code, r.code(), r.raw().body());
        org.junit.jupiter.api.Assertions.assertEquals(status, r.body().get("status").asInt());
        org.junit.jupiter.api.Assertions.assertFalse(r.raw().body().contains("at io.drover"), "no stack trace");
    }

    /** A response with its JSON body parsed (null body when empty or not JSON). */
    public record Reply(int status, JsonNode body, HttpResponse<String> raw) {
        public String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }

        public String code() {
            return body == null || body.get("code") == null ? null : body.get("code").asText();
        }
    }

    public Reply call(String method, String path, String key, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(20));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        boolean contentTypeGiven = false;
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
            contentTypeGiven |= headers[i].equalsIgnoreCase("Content-Type");
        }
        if (body != null && !contentTypeGiven) {
            b.header("Content-Type", "application/json");
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = null;
        try {
            json = r.body().isEmpty() ? null : ApiJson.MAPPER.readTree(r.body());
        } catch (Exception e) {
            // not JSON (e.g. /metrics)
        }
        String pathOnly = URI.create(base() + path).getPath();
        violations.addAll(CONTRACT.check(method, pathOnly, r.statusCode(),
                r.headers().firstValue("Content-Type").orElse(null), r.body()));
        return new Reply(r.statusCode(), json, r);
    }

    /** The OpenAPI document every answer of {@link #call} is checked against. */
    private static final OpenApiContract CONTRACT = new OpenApiContract();
    private final java.util.List<String> violations = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    /** What the answers so far did that the OpenAPI document does not allow (also asserted empty by {@link #close}). */
    public java.util.List<String> contractViolations() {
        return java.util.List.copyOf(violations);
    }

    @Override
    public void close() throws Exception {
        binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        // every route test is also a test of the document: an answer it does not describe fails the class
        org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of(), contractViolations(),
                "answers the OpenAPI document (io/drover/http/openapi.json) does not allow");
    }
}
