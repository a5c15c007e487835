package io.drover.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Publish → alarm-on-WebSocket latency, black box: a tenant of its own with one rule ({@code probe > 0} raises,
 * {@code probe == 0} clears), {@code devices} probe devices (each raises and clears once: two changes, far from
 * flapping), a WebSocket subscribed to the tenant's alarms, and per device: publish {@code probe = 1} at QoS 1, time
 * until the alarm frame, then {@code probe = 0}, time until the cleared frame. Prints and writes JSON.
 *
 * <pre>java … AlarmLatency http://127.0.0.1:8080 data/admin-api-key 127.0.0.1:1883 200 out.json</pre>
 */
public final class AlarmLatency {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private AlarmLatency() {}

    public static void main(String[] args) throws Exception {
        String api = args[0];
        String platformKey = Files.readString(Path.of(args[1])).trim();
        String[] mqtt = args[2].split(":");
        int devices = Integer.parseInt(args[3]);
        Path out = Path.of(args[4]);

        String tenant = "alarm-bench-" + Long.toString(System.currentTimeMillis(), 36);
        String key = call("POST", api + "/api/v1/tenants", platformKey, "{\"id\":\"" + tenant + "\"}").at("/adminKey/key")
                .asText();
        String[] tokens = new String[devices];
        for (int i = 0; i < devices; i++) {
            tokens[i] = call("POST", api + "/api/v1/devices", key, "{\"id\":\"p" + i + "\"}").get("token").asText();
        }
        call("POST", api + "/api/v1/rules", key, "{\"name\":\"probe\",\"condition\":\"probe > 0\",\"actions\":"
                + "[{\"type\":\"alarm\",\"alarmType\":\"probe\",\"severity\":\"warning\"}]}");

        Map<String, CountDownLatch> waiting = new ConcurrentHashMap<>();
        WebSocket ws = HTTP.newWebSocketBuilder().header("Authorization", "Bearer " + key)
                .buildAsync(URI.create(api.replace("http", "ws") + "/api/v1/ws"), new WebSocket.Listener() {
                    private final StringBuilder part = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                        part.append(data);
                        if (last) {
                            try {
                                JsonNode f = JSON.readTree(part.toString());
                                if ("alarm".equals(f.path("type").asText())) {
                                    JsonNode a = f.get("alarm");
                                    CountDownLatch l = waiting.remove(a.get("deviceId").asText() + "/"
                                            + a.get("status").asText());
                                    if (l != null) {
                                        l.countDown();
                                    }
                                }
                            } catch (Exception e) {
                                System.err.println("alarm-latency: bad frame " + e);
                            }
                            part.setLength(0);
                        }
                        w.request(1);
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);
        ws.sendText("{\"type\":\"subscribe\",\"alarms\":true}", true).get(10, TimeUnit.SECONDS);
        Thread.sleep(500);

        Histogram raised = new Histogram(60_000_000L, 3);
        Histogram cleared = new Histogram(60_000_000L, 3);
        int missed = 0;
        for (int i = 0; i < devices; i++) {
            String id = "p" + i;
            Mqtt3BlockingClient c = MqttClient.builder().useMqttVersion3().identifier(tenant + ":" + id)
                    .serverHost(mqtt[0]).serverPort(Integer.parseInt(mqtt[1])).buildBlocking();
            c.connectWith().simpleAuth().username(tenant + ":" + id).password(tokens[i].getBytes(StandardCharsets.UTF_8))
                    .applySimpleAuth().send();
            for (int v : new int[] {1, 0}) {
                CountDownLatch l = new CountDownLatch(1);
                waiting.put(id + "/" + (v == 1 ? "active" : "cleared"), l);
                long t0 = System.nanoTime();
                c.publishWith().topic("devices/" + id + "/telemetry").qos(MqttQos.AT_LEAST_ONCE)
                        .payload(("{\"ts\":" + System.currentTimeMillis() + ",\"values\":{\"probe\":" + v + "}}")
                                .getBytes(StandardCharsets.UTF_8)).send();
                if (l.await(30, TimeUnit.SECONDS)) {
                    (v == 1 ? raised : cleared).recordValue((System.nanoTime() - t0) / 1000);
                } else {
                    missed++;
                }
            }
            c.disconnect();
        }
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(10, TimeUnit.SECONDS);

        ObjectNode r = JSON.createObjectNode();
        r.put("devices", devices);
        r.put("missed", missed);
        for (var e : Map.of("raised", raised, "cleared", cleared).entrySet()) {
            ObjectNode h = r.putObject(e.getKey() + "Ms");
            h.put("count", e.getValue().getTotalCount());
            h.put("p50", e.getValue().getValueAtPercentile(50) / 1000.0);
            h.put("p99", e.getValue().getValueAtPercentile(99) / 1000.0);
            h.put("max", e.getValue().getMaxValue() / 1000.0);
        }
        Files.writeString(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(r));
        System.out.println(r);
    }

    private static JsonNode call(String method, String url, String key, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException(method + " " + url + " → " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body());
    }
}
