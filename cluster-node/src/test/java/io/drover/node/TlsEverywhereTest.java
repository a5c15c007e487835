package io.drover.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.drover.persistence.testing.CassandraExtension;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One node with TLS on every port it opens (docs/security.md): HTTPS on the API port, MQTT over TLS only (the plain
 * listener is not opened), Pekko remoting over mutual TLS (artery tls-tcp) — shown by a second member joining over
 * it. Certificates from a throwaway CA made with keytool.
 */
@ExtendWith(CassandraExtension.class)
class TlsEverywhereTest {

    private static TlsFixtures pki;
    private static Main.Started node;
    private static int plainMqttPort;
    private static int tlsMqttPort;
    private static int remotePort;

    private static Map<String, Object> remoteTls() {
        return Map.of(
                "pekko.remote.artery.transport", "tls-tcp",
                "pekko.remote.artery.ssl.config-ssl-engine.key-store", pki.path("server.p12").toString(),
                "pekko.remote.artery.ssl.config-ssl-engine.key-store-password", TlsFixtures.PASSWORD,
                "pekko.remote.artery.ssl.config-ssl-engine.key-password", TlsFixtures.PASSWORD,
                "pekko.remote.artery.ssl.config-ssl-engine.trust-store", pki.path("trust.p12").toString(),
                "pekko.remote.artery.ssl.config-ssl-engine.trust-store-password", TlsFixtures.PASSWORD);
    }

    @BeforeAll
    static void start() throws Exception {
        pki = new TlsFixtures(Path.of("target", "tls-everywhere").toAbsolutePath());
        plainMqttPort = TestNodes.freePort();
        tlsMqttPort = TestNodes.freePort();
        remotePort = TestNodes.freePort();
        Map<String, Object> config = new java.util.HashMap<>(remoteTls());
        config.putAll(Map.of(
                "drover.http.tls.enabled", true,
                "drover.http.tls.keystore", pki.path("server.p12").toString(),
                "drover.http.tls.keystore-password", TlsFixtures.PASSWORD,
                "drover.mqtt.embedded.port", plainMqttPort,
                "drover.mqtt.embedded.tls.enabled", true,
                "drover.mqtt.embedded.tls.only", true,
                "drover.mqtt.embedded.tls.port", tlsMqttPort,
                "drover.mqtt.embedded.tls.keystore", pki.path("server.p12").toString(),
                "drover.mqtt.embedded.tls.keystore-password", TlsFixtures.PASSWORD,
                "pekko.remote.artery.canonical.port", remotePort));
        node = TestNodes.start(config);
    }

    @AfterAll
    static void stop() throws Exception {
        TestNodes.stop(node);
    }

    private static HttpClient https() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, pki.trust().getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static HttpResponse<String> send(HttpClient client, String url, String key, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        if (body != null) {
            b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theApiIsHttpsOnly() throws Exception {
        int port = node.started().http().getPort();
        assertEquals(200, send(https(), "https://127.0.0.1:" + port + "/health/alive", null, null).statusCode());
        HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        assertThrows(java.io.IOException.class, () -> send(plain, "http://127.0.0.1:" + port + "/health/alive", null, null),
                "plain HTTP on the HTTPS port");
    }

    @Test
    void mqttIsTlsOnlyAndDevicesConnectOverIt() throws Exception {
        assertThrows(ConnectException.class, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", plainMqttPort), 2000);
            }
        }, "no plain listener");
        HttpClient client = https();
        String base = "https://127.0.0.1:" + node.started().http().getPort();
        String platform = TestHttp.platformKey(node, "tls-all");
        String tenant = "tla-" + UUID.randomUUID().toString().substring(0, 8);
        HttpResponse<String> t = send(client, base + "/api/v1/tenants", platform, "{\"id\":\"" + tenant + "\"}");
        assertEquals(201, t.statusCode(), t.body());
        String admin = TestHttp.JSON.readTree(t.body()).at("/adminKey/key").asText();
        HttpResponse<String> d = send(client, base + "/api/v1/devices", admin, "{\"id\":\"m1\"}");
        assertEquals(201, d.statusCode(), d.body());
        String token = TestHttp.JSON.readTree(d.body()).get("token").asText();
        Mqtt5BlockingClient c = MqttClient.builder().useMqttVersion5().identifier(tenant + ":m1").serverHost("127.0.0.1")
                .serverPort(tlsMqttPort).sslConfig().trustManagerFactory(pki.trust()).applySslConfig().buildBlocking();
        c.connectWith().simpleAuth().password(token.getBytes(StandardCharsets.UTF_8)).applySimpleAuth().send();
        c.publishWith().topic("devices/m1/telemetry").qos(MqttQos.AT_LEAST_ONCE).payload("{\"t\":1}".getBytes()).send();
        c.disconnect();
    }

    @Test
    void anotherMemberJoinsOverMutualTls() throws Exception {
        // the control: a member speaking plain TCP never gets in
        ActorSystem<Void> plain = member(Map.of("pekko.remote.artery.transport", "tcp"));
        try {
            Cluster.get(plain).manager().tell(Join.create(Cluster.get(node.system()).selfMember().address()));
            Thread.sleep(5000);
            assertTrue(Cluster.get(plain).selfMember().status() != org.apache.pekko.cluster.MemberStatus.up(),
                    "a plain-TCP member joined a TLS cluster");
        } finally {
            plain.terminate();
            plain.getWhenTerminated().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
        ActorSystem<Void> other = member(remoteTls());
        try {
            Cluster.get(other).manager().tell(Join.create(Cluster.get(node.system()).selfMember().address()));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (Cluster.get(other).selfMember().status() != org.apache.pekko.cluster.MemberStatus.up()) {
                assertTrue(System.nanoTime() < deadline, "the second member did not come up over TLS");
                Thread.sleep(100);
            }
            assertEquals(2, java.util.stream.StreamSupport.stream(
                    Cluster.get(node.system()).state().getMembers().spliterator(), false).count());
            Cluster.get(other).manager().tell(org.apache.pekko.cluster.typed.Leave.create(
                    Cluster.get(other).selfMember().address()));
            Thread.sleep(2000);
        } finally {
            other.terminate();
            other.getWhenTerminated().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    private static ActorSystem<Void> member(Map<String, Object> transport) throws Exception {
        int port = TestNodes.freePort();
        Map<String, Object> m = new java.util.HashMap<>(transport);
        m.putAll(Map.of("pekko.actor.provider", "cluster",
                "pekko.remote.artery.canonical.hostname", "127.0.0.1",
                "pekko.remote.artery.canonical.port", port,
                "pekko.cluster.jmx.multi-mbeans-in-same-jvm", "on",
                "pekko.coordinated-shutdown.exit-jvm", "off",
                "pekko.cluster.seed-nodes", java.util.List.of()));
        Config config = ConfigFactory.parseMap(m).withFallback(ConfigFactory.load()).resolve();
        return ActorSystem.create(Behaviors.empty(), "drover", config);
    }
}
