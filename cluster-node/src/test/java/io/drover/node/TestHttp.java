package io.drover.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The REST API of a test node, as a client sees it. */
final class TestHttp {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private TestHttp() {}

    static JsonNode call(Main.Started node, String method, String path, String key, String body, int expect) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.started().http().getPort() + path))
                .header("Authorization", "Bearer " + key)
                .timeout(Duration.ofSeconds(30));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(expect, r.statusCode(), method + " " + path + " → " + r.body());
        return r.body().isEmpty() ? null : JSON.readTree(r.body());
    }

    static String metrics(Main.Started node) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.started().http().getPort() + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}
