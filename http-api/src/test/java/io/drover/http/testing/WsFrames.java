package io.drover.http.testing;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import io.drover.http.ApiJson;
import java.net.http.WebSocket;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket listener for tests: text frames as JSON into a queue (a frame that is not JSON as
 * {@code {"type":"not-json"}}), the close status, and {@code auto} = keep reading (else the test controls demand).
 */
public final class WsFrames implements WebSocket.Listener {
    public final BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
    public final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StringBuilder part = new StringBuilder();
    private final boolean auto;

    public WsFrames(boolean auto) {
        this.auto = auto;
    }

    @Override
    public void onOpen(WebSocket ws) {
        ws.request(auto ? Long.MAX_VALUE : 1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        part.append(data);
        if (last) {
            try {
                frames.add(ApiJson.MAPPER.readTree(part.toString()));
            } catch (Exception e) {
                frames.add(ApiJson.MAPPER.createObjectNode().put("type", "not-json"));
            }
            part.setLength(0);
        }
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
        closed.complete(status);
        return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
        closed.complete(-1);
    }

    /** The next frame of {@code type} within 10 s (frames of other types are skipped). */
    public JsonNode next(String type) throws InterruptedException {
        while (true) {
            JsonNode f = frames.poll(10, TimeUnit.SECONDS);
            assertNotNull(f, "no " + type + " frame arrived");
            if (f.get("type").asText().equals(type)) {
                return f;
            }
        }
    }
}
