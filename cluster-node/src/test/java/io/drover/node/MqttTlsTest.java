package io.drover.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5ClientBuilder;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAckReasonCode;
import io.drover.persistence.testing.CassandraExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * MQTT over TLS with a certificate made for the test, and X.509 device identity: a device whose
 * certificate fingerprint is registered on its twin connects without a password; the same certificate
 * does not open another device.
 */
@ExtendWith(CassandraExtension.class)
class MqttTlsTest {

    private static TlsFixtures pki;
    private static Main.Started node;
    private static int tlsPort;
    private static String admin;
    private static String tenant;

    @BeforeAll
    static void start() throws Exception {
        pki = new TlsFixtures(Path.of("target", "tls").toAbsolutePath());
        tlsPort = TestNodes.freePort();
        node = TestNodes.start(Map.of(
                "drover.mqtt.embedded.tls.enabled", true,
                "drover.mqtt.embedded.tls.port", tlsPort,
                "drover.mqtt.embedded.tls.keystore", pki.path("server.p12").toString(),
                "drover.mqtt.embedded.tls.keystore-password", TlsFixtures.PASSWORD,
                "drover.mqtt.embedded.tls.key-password", TlsFixtures.PASSWORD,
                "drover.mqtt.embedded.tls.truststore", pki.path("trust.p12").toString(),
                "drover.mqtt.embedded.tls.truststore-password", TlsFixtures.PASSWORD));
        String platform = TestHttp.platformKey(node, "tls-test");
        tenant = "tls-" + UUID.randomUUID().toString().substring(0, 8);
        admin = TestHttp.call(node, "POST", "/api/v1/tenants", platform, "{\"id\":\"" + tenant + "\"}", 201)
                .at("/adminKey/key").asText();
    }

    @AfterAll
    static void stop() throws Exception {
        TestNodes.stop(node);
    }

    private static Mqtt5ClientBuilder tlsClient(String device, boolean withCertificate) throws Exception {
        var ssl = MqttClient.builder().useMqttVersion5().identifier(tenant + ":" + device).serverHost("127.0.0.1")
                .serverPort(tlsPort).sslConfig().trustManagerFactory(pki.trust());
        if (withCertificate) {
            ssl = ssl.keyManagerFactory(pki.deviceKeys());
        }
        return ssl.applySslConfig();
    }

    @Test
    void theBrokerConfigWithTheKeystorePasswordsIsReadableByTheOwnerOnly() throws Exception {
        Path config;
        try (var files = java.nio.file.Files.walk(Path.of("target", "test-node"))) {
            config = files.filter(p -> p.getFileName().toString().equals("config.xml")).findFirst().orElseThrow();
        }
        assertTrue(java.nio.file.Files.readString(config).contains(TlsFixtures.PASSWORD), "the file this is about");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                java.nio.file.Files.getPosixFilePermissions(config)));
    }

    @Test
    void aTokenWorksOverTls() throws Exception {
        String token = TestHttp.call(node, "POST", "/api/v1/devices", admin, "{\"id\":\"tok\"}", 201).get("token").asText();
        Mqtt5BlockingClient c = tlsClient("tok", false).buildBlocking();
        c.connectWith().simpleAuth().username(tenant + ":tok").password(token.getBytes(StandardCharsets.UTF_8))
                .applySimpleAuth().send();
        c.publishWith().topic("devices/tok/telemetry").qos(MqttQos.AT_LEAST_ONCE).payload("{\"t\":1}".getBytes()).send();
        c.disconnect();
        assertEquals(1, node.started().persistence().telemetry().read(tenant, "tok", "t", Instant.now().minusSeconds(600),
                Instant.now().plusSeconds(60), 10).toCompletableFuture().get(10, TimeUnit.SECONDS).size());
    }

    @Test
    void aRegisteredCertificateIsTheDevicesIdentity() throws Exception {
        TestHttp.call(node, "POST", "/api/v1/devices", admin, "{\"id\":\"cert\"}", 201);
        TestHttp.call(node, "POST", "/api/v1/devices", admin, "{\"id\":\"other\"}", 201);
        // not registered yet: refused
        Mqtt5ConnAckException before = assertThrows(Mqtt5ConnAckException.class,
                () -> tlsClient("cert", true).buildBlocking().connect());
        assertEquals(Mqtt5ConnAckReasonCode.BAD_USER_NAME_OR_PASSWORD, before.getMqttMessage().getReasonCode());

        JsonNode registered = TestHttp.call(node, "PUT", "/api/v1/devices/cert/credentials/x509", admin,
                TestHttp.JSON.createObjectNode().put("certificatePem", pki.devicePem()).toString(), 200);
        assertEquals(64, registered.get("certificateFingerprint").asText().length());

        Mqtt5BlockingClient c = tlsClient("cert", true).buildBlocking();
        c.connect(); // no username, no password: the certificate is the credential
        c.publishWith().topic("devices/cert/telemetry").qos(MqttQos.AT_LEAST_ONCE).payload("{\"t\":2}".getBytes()).send();
        c.disconnect();

        Mqtt5ConnAckException other = assertThrows(Mqtt5ConnAckException.class,
                () -> tlsClient("other", true).buildBlocking().connect());
        assertEquals(Mqtt5ConnAckReasonCode.BAD_USER_NAME_OR_PASSWORD, other.getMqttMessage().getReasonCode(),
                "one device's certificate does not open another device");
        assertTrue(TestHttp.metrics(node).contains("drover_mqtt_connects_total{outcome=\"accepted-certificate\"}"));

        TestHttp.call(node, "DELETE", "/api/v1/devices/cert/credentials/x509", admin, null, 200);
        assertThrows(Mqtt5ConnAckException.class, () -> tlsClient("cert", true).buildBlocking().connect(),
                "a removed certificate no longer works");
    }
}
