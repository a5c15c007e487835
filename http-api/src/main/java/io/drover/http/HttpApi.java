package io.drover.http;

import io.drover.persistence.AccessStore;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.apache.pekko.http.javadsl.ConnectionContext;
import io.drover.persistence.DeviceDirectory;
import io.drover.persistence.DroverPersistence;
import io.drover.persistence.IdempotencyStore;
import io.drover.persistence.ShadowHistory;
import io.drover.shard.DeviceClient;
import io.drover.shard.FailureLimiter;
import io.drover.persistence.RetentionPolicy;
import io.drover.persistence.TelemetryStore;
import io.drover.telemetry.LiveFeed;
import io.drover.telemetry.TelemetryHub;
import io.drover.telemetry.TelemetryStreams;
import java.util.Optional;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;

/** Builds the API from its collaborators and binds it; the binding joins coordinated shutdown. */
public final class HttpApi {

    private HttpApi() {}

    public static ApiRoutes routes(ActorSystem<?> system, HttpSettings settings, DeviceClient twins, AccessStore access,
            DeviceDirectory directory, ShadowHistory history, TelemetryHub telemetry, TelemetryStore telemetryStore,
            RetentionPolicy retention, IdempotencyStore idempotencyStore, Optional<LiveFeed> live, RulesApi rules,
            HealthRoutes.Readiness readiness, ApiMetrics metrics, Clock clock) {
        Bodies bodies = new Bodies(settings);
        Idempotency idempotency = new Idempotency(idempotencyStore, metrics);
        DeviceClient devices = new MeteredDeviceClient(twins, metrics);
        FailureLimiter failures = new FailureLimiter(FailureLimiter.Settings.fromConfig(system.settings().config()));
        Authenticator auth = new Authenticator(access, settings, failures, metrics, clock);
        ApiKeys keys = new ApiKeys(access, clock);
        ShadowRoutes shadow = new ShadowRoutes(devices, history, metrics, bodies);
        TelemetryRoutes telemetryRoutes = new TelemetryRoutes(telemetryStore, devices, directory, metrics,
                settings.telemetry(), clock);
        return new ApiRoutes(auth, new DeviceApiRoutes(devices, telemetry, failures, metrics, bodies),
                new DeviceRoutes(devices, directory, shadow, new CommandRoutes(devices, metrics, bodies,
                        system.settings().config().getDuration("pekko.http.server.request-timeout"), idempotency), telemetryRoutes,
                        metrics, bodies, settings, idempotency),
                new TenantRoutes(access, keys, retention, metrics, bodies, clock),
                new ApiKeyRoutes(access, keys, auth, metrics, bodies, clock),
                telemetryRoutes, new LiveRoutes(system, live, Optional.of(rules.alarmTopic()), devices, metrics,
                        settings.live()),
                new RuleRoutes(rules.rules(), rules.compiler(), rules.errors(), rules.backtester(), directory, bodies,
                        RuleRoutes.Settings.fromConfig(system.settings().config())),
                new AlarmRoutes(rules.alarms(), rules.alarmDirectory(), clock),
                new FleetRoutes(directory, telemetryStore, rules.alarmDirectory(), metrics, settings.fleet(), clock),
                new HealthRoutes(readiness, metrics, settings.metricsToken()), metrics);
    }

    /** Binds the API; {@code readiness} is the node's ({@code /health/ready}). */
    public static CompletionStage<ServerBinding> init(ActorSystem<?> system, DeviceClient devices,
            DroverPersistence persistence, TelemetryStreams.Started telemetry, RulesApi rules, PrometheusRegistry registry,
            HealthRoutes.Readiness readiness) {
        HttpSettings settings = HttpSettings.fromConfig(system.settings().config());
        ApiMetrics metrics = new ApiMetrics(registry, true);
        ApiRoutes routes = routes(system, settings, devices, persistence.access(), persistence.devices(),
                persistence.history(), telemetry.hub(), persistence.telemetry(), persistence.retention(),
                persistence.idempotency(), Optional.of(telemetry.live()), rules, readiness, metrics, Clock.systemUTC());
        var server = Http.get(system).newServerAt(settings.interfaceName(), settings.port());
        if (settings.tls().enabled()) {
            server = server.enableHttps(ConnectionContext.httpsServer(sslContext(settings.tls())));
        }
        return server.bind(routes.route())
                .thenApply(b -> b.addToCoordinatedShutdown(settings.shutdownDeadline(), system));
    }

    /** The server's TLS context from its PKCS12 keystore (key and certificate chain, one password). */
    static SSLContext sslContext(HttpSettings.Tls tls) {
        try (InputStream in = Files.newInputStream(Path.of(tls.keystore()))) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            char[] password = tls.keystorePassword().toCharArray();
            ks.load(in, password);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, password);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, new SecureRandom());
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException("drover.http.tls: cannot load the keystore " + tls.keystore() + ": " + e, e);
        }
    }
}
