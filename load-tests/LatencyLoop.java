import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Issue 2's simple latency loop against a running Drover (the Gatling simulations and the MQTT
 * simulator come with the load-tests issue). One request at a time on one keep-alive connection,
 * so the figures are latencies, not throughput; a warm-up round is not counted.
 *
 *   ./drover dev            (in another terminal)
 *   java load-tests/LatencyLoop.java [N] [base url]
 */
public class LatencyLoop {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        String base = args.length > 1 ? args[1] : "http://127.0.0.1:8080";
        String admin = Files.readString(Path.of(System.getenv().getOrDefault("DROVER_DATA_DIR", "data"), "admin-api-key")).trim();
        String tenant = "lat" + System.currentTimeMillis();
        String created = send("POST", base + "/api/v1/tenants", admin, "{\"id\":\"" + tenant + "\"}", 201);
        Matcher m = Pattern.compile("\"key\":\"([^\"]+)\"").matcher(created);
        if (!m.find()) {
            throw new IllegalStateException("no key in " + created);
        }
        String key = m.group(1);
        System.out.printf("Drover at %s, %d sequential requests per operation (after %d warm-up)%n", base, n, n / 5);
        for (String phase : new String[] {"warmup", "measure"}) {
            int count = phase.equals("warmup") ? n / 5 : n;
            String prefix = phase.substring(0, 1);
            long[] create = new long[count];
            long[] update = new long[count];
            long[] get = new long[count];
            for (int i = 0; i < count; i++) {
                long t0 = System.nanoTime();
                send("POST", base + "/api/v1/devices", key, "{\"id\":\"" + prefix + i + "\",\"type\":\"meter\"}", 201);
                create[i] = System.nanoTime() - t0;
            }
            for (int i = 0; i < count; i++) {
                long t0 = System.nanoTime();
                send("PATCH", base + "/api/v1/devices/" + prefix + i + "/shadow/desired", key, "{\"setpoint\":" + i + "}", 200);
                update[i] = System.nanoTime() - t0;
            }
            for (int i = 0; i < count; i++) {
                long t0 = System.nanoTime();
                send("GET", base + "/api/v1/devices/" + prefix + i + "/shadow", key, null, 200);
                get[i] = System.nanoTime() - t0;
            }
            if (phase.equals("measure")) {
                report("create-device", create);
                report("shadow-update", update);
                report("shadow-get", get);
            }
        }
    }

    private static String send(String method, String url, String key, String body, int expect) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + key)
                .timeout(Duration.ofSeconds(30));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != expect) {
            throw new IllegalStateException(method + " " + url + " → " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }

    private static void report(String name, long[] nanos) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        System.out.printf("%-14s n=%d  p50=%.2f ms  p99=%.2f ms  max=%.2f ms%n", name, s.length,
                s[s.length / 2] / 1e6, s[(int) (s.length * 0.99)] / 1e6, s[s.length - 1] / 1e6);
    }
}
