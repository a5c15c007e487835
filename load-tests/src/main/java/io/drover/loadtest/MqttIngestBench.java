package io.drover.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Durable QoS 1 ingest into Drover next to raw Mosquitto QoS 1 pass-through, with the same publisher
 * (HiveMQ MQTT client, MQTT 3.1.1, N connections, K messages in flight each, ~100-byte JSON) in the
 * same run. Drover's PUBACK means "written to Cassandra"; Mosquitto's means "the broker has it", and
 * a subscriber drains Mosquitto so it is a pass-through. Bounded: M messages per side.
 *
 * <p>Usage: {@code MqttIngestBench <drover http> <drover mqtt port> <admin key file> <mosquitto port>
 * [connections=20] [messages=100000] [inflight=32]}
 */
public final class MqttIngestBench {

    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        String http = args[0];
        int droverPort = Integer.parseInt(args[1]);
        String adminKey = Files.readString(Path.of(args[2])).trim();
        int mosquittoPort = Integer.parseInt(args[3]);
        int connections = args.length > 4 ? Integer.parseInt(args[4]) : 20;
        int messages = args.length > 5 ? Integer.parseInt(args[5]) : 100_000;
        int inflight = args.length > 6 ? Integer.parseInt(args[6]) : 32;

        System.out.printf("publisher: %d connections x %d in flight, %d QoS 1 messages per side%n", connections, inflight, messages);

        // ---- raw Mosquitto (tuned in-flight window), one subscriber draining everything
        Mqtt3AsyncClient sub = MqttClient.builder().useMqttVersion3().identifier("bench-sub").serverHost("127.0.0.1")
                .serverPort(mosquittoPort).buildAsync();
        sub.connect().get(10, TimeUnit.SECONDS);
        AtomicLong received = new AtomicLong();
        sub.subscribeWith().topicFilter("bench/#").qos(MqttQos.AT_LEAST_ONCE).callback(p -> received.incrementAndGet())
                .send().get(10, TimeUnit.SECONDS);
        List<Mqtt3AsyncClient> mosq = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            Mqtt3AsyncClient c = MqttClient.builder().useMqttVersion3().identifier("bench-pub-" + i)
                    .serverHost("127.0.0.1").serverPort(mosquittoPort).buildAsync();
            c.connect().get(10, TimeUnit.SECONDS);
            mosq.add(c);
        }
        warmUp(mosq, i -> "bench/" + i, Math.min(messages / 5, 10_000), inflight);
        received.set(0);
        double mosqAck = run(mosq, i -> "bench/" + i, messages, inflight);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (received.get() < messages && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        System.out.printf("raw Mosquitto QoS 1: %.0f msg/s acknowledged by the broker; %d of %d reached the subscriber%n",
                mosqAck, received.get(), messages);
        for (Mqtt3AsyncClient c : mosq) {
            c.disconnect();
        }
        sub.disconnect();

        // ---- Drover: one device per connection, PUBACK after the Cassandra write
        String tenant = "bench" + System.currentTimeMillis();
        String tenantKey = post(http + "/api/v1/tenants", adminKey, "{\"id\":\"" + tenant + "\"}").at("/adminKey/key").asText();
        List<Mqtt3AsyncClient> drover = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            String token = post(http + "/api/v1/devices", tenantKey, "{\"id\":\"d" + i + "\"}").get("token").asText();
            Mqtt3AsyncClient c = MqttClient.builder().useMqttVersion3().identifier(tenant + ":d" + i)
                    .serverHost("127.0.0.1").serverPort(droverPort).buildAsync();
            c.connectWith().simpleAuth().username(tenant + ":d" + i).password(token.getBytes(StandardCharsets.UTF_8))
                    .applySimpleAuth().send().get(30, TimeUnit.SECONDS);
            drover.add(c);
        }
        warmUp(drover, i -> "devices/d" + i + "/telemetry", Math.min(messages / 5, 10_000), inflight);
        double droverAck = run(drover, i -> "devices/d" + i + "/telemetry", messages, inflight);
        System.out.printf("Drover durable QoS 1: %.0f msg/s acknowledged after the Cassandra write%n", droverAck);
        System.out.printf("ratio Drover / raw Mosquitto: %.2f%n", droverAck / mosqAck);
        for (Mqtt3AsyncClient c : drover) {
            c.disconnect();
        }
        System.exit(0);
    }

    interface Topic {
        String of(int connection);
    }

    private static void warmUp(List<Mqtt3AsyncClient> clients, Topic topic, int messages, int inflight) throws Exception {
        run(clients, topic, messages, inflight);
    }

    /** Sends {@code messages} spread over the clients, {@code inflight} each; returns acknowledged msg/s. */
    private static double run(List<Mqtt3AsyncClient> clients, Topic topic, int messages, int inflight) throws Exception {
        int per = messages / clients.size();
        AtomicLong failed = new AtomicLong();
        long t0 = System.nanoTime();
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int ci = 0; ci < clients.size(); ci++) {
            int connection = ci;
            Mqtt3AsyncClient c = clients.get(ci);
            done.add(CompletableFuture.runAsync(() -> {
                Semaphore window = new Semaphore(inflight);
                for (int m = 0; m < per; m++) {
                    window.acquireUninterruptibly();
                    long ts = System.currentTimeMillis() * 1000 + m; // unique per message within the run
                    byte[] payload = ("{\"ts\":" + (ts / 1000) + ",\"values\":{\"temperature\":" + (20 + m % 10)
                            + ".5,\"humidity\":" + (40 + m % 20) + ",\"seq\":" + m + "}}").getBytes(StandardCharsets.UTF_8);
                    c.publishWith().topic(topic.of(connection)).qos(MqttQos.AT_LEAST_ONCE).payload(payload).send()
                            .whenComplete((r, e) -> {
                                if (e != null) {
                                    failed.incrementAndGet();
                                }
                                window.release();
                            });
                }
                window.acquireUninterruptibly(inflight);
            }));
        }
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (failed.get() > 0) {
            System.out.printf("  (%d publishes failed)%n", failed.get());
        }
        return (per * clients.size() - failed.get()) / seconds;
    }

    private static JsonNode post(String url, String key, String body) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                        .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) {
            throw new IllegalStateException(url + " → " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body());
    }
}
