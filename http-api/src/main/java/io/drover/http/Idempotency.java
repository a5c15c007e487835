package io.drover.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.drover.persistence.IdempotencyStore;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * {@code Idempotency-Key} on POST /devices and POST …/commands (docs/http-api.md): the first request with a key
 * runs and its answer (2xx or 4xx) is kept 24 h; the same key with the same body gets that answer again (with
 * {@code Idempotent-Replayed: true}), with another body a 409 {@code idempotency-key-reused}, while the first still
 * runs a 409 {@code idempotency-key-in-progress}. A 5xx or a failure frees the key, so a retry runs again. The
 * store sees neither the key (the row id is a SHA-256 of tenant, route and key) nor the answer in clear (AES-GCM
 * under a key derived from the Idempotency-Key): the answer of POST /devices holds the device token.
 */
final class Idempotency {

    static final String HEADER = "Idempotency-Key";
    private static final Duration PENDING = Duration.ofSeconds(60);
    private static final Duration KEEP = Duration.ofHours(24);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final IdempotencyStore store;
    private final ApiMetrics metrics;

    Idempotency(IdempotencyStore store, ApiMetrics metrics) {
        this.store = store;
        this.metrics = metrics;
    }

    /** Runs {@code request} once per (tenant, route, key); without a key, just runs it. */
    CompletionStage<HttpResponse> run(Optional<String> key, String tenant, String route, Object body,
            Supplier<CompletionStage<HttpResponse>> request) {
        if (key.isEmpty()) {
            return request.get();
        }
        String k = key.get();
        if (k.isEmpty() || k.length() > 255 || !k.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw ApiProblem.badRequest("invalid-idempotency-key", "Idempotency-Key is 1-255 visible ASCII characters");
        }
        String id = sha256Hex(tenant + '\u0000' + route + '\u0000' + k);
        String bodyHash = sha256Hex(new String(ApiJson.bytes(body), StandardCharsets.UTF_8));
        return metrics.cassandra("idempotency_begin", () -> store.begin(id, bodyHash, PENDING)).thenCompose(existing -> {
            if (existing.isEmpty()) {
                return first(id, bodyHash, secret(tenant, k), request);
            }
            IdempotencyStore.Entry e = existing.get();
            if (!e.bodyHash().equals(bodyHash)) {
                throw new ApiProblem(StatusCodes.CONFLICT, "idempotency-key-reused",
                        "this Idempotency-Key was used with another body");
            }
            if (e.pending() || e.response() == null) {
                throw new ApiProblem(StatusCodes.CONFLICT, "idempotency-key-in-progress",
                        "a request with this Idempotency-Key is still running", Map.of("retryAfterSeconds", 1));
            }
            return CompletableFuture.completedFuture(replay(e, secret(tenant, k)));
        });
    }

    private CompletionStage<HttpResponse> first(String id, String bodyHash, byte[] secret,
            Supplier<CompletionStage<HttpResponse>> request) {
        CompletionStage<HttpResponse> answered;
        try {
            answered = request.get();
        } catch (RuntimeException e) {
            answered = CompletableFuture.failedFuture(e);
        }
        return answered.handle((resp, err) -> {
            HttpResponse r = resp;
            if (err != null && Problems.unwrap(err) instanceof ApiProblem p && p.status().intValue() < 500) {
                r = Problems.response(p.status(), p.code(), p.getMessage(), p.extra()); // a 4xx is the answer too
            }
            if (r == null || r.status().intValue() >= 500 || !(r.entity() instanceof HttpEntity.Strict strict)) {
                store.release(id); // a retry runs again
                return err != null ? CompletableFuture.<HttpResponse>failedFuture(err) : CompletableFuture.completedFuture(r);
            }
            HttpResponse answer = r;
            byte[] sealed = seal(secret, answer, strict);
            return metrics.cassandra("idempotency_complete",
                            () -> store.complete(id, bodyHash, answer.status().intValue(), sealed, KEEP))
                    .handle((x, e) -> answer); // not kept: a retry finds the key pending until it expires
        }).thenCompose(f -> f);
    }

    private static byte[] seal(byte[] secret, HttpResponse r, HttpEntity.Strict entity) {
        ObjectNode doc = ApiJson.MAPPER.createObjectNode();
        doc.put("problem", entity.getContentType().equals(ApiJson.PROBLEM));
        r.getHeader(Location.class).ifPresent(l -> doc.put("location", l.getUri().toString()));
        doc.put("body", Base64.getEncoder().encodeToString(entity.getData().toArray()));
        byte[] iv = new byte[12];
        RANDOM.nextBytes(iv);
        byte[] cipher = crypt(Cipher.ENCRYPT_MODE, secret, iv, ApiJson.bytes(doc));
        byte[] out = Arrays.copyOf(iv, iv.length + cipher.length);
        System.arraycopy(cipher, 0, out, iv.length, cipher.length);
        return out;
    }

    private static HttpResponse replay(IdempotencyStore.Entry e, byte[] secret) {
        byte[] iv = Arrays.copyOf(e.response(), 12);
        byte[] plain = crypt(Cipher.DECRYPT_MODE, secret, iv, Arrays.copyOfRange(e.response(), 12, e.response().length));
        ObjectNode doc = ApiJson.readObject(plain);
        byte[] body = Base64.getDecoder().decode(doc.get("body").asText());
        HttpResponse r = HttpResponse.create().withStatus(e.status())
                .withEntity(HttpEntities.create(doc.get("problem").asBoolean() ? ApiJson.PROBLEM
                        : ContentTypes.APPLICATION_JSON, body))
                .addHeader(RawHeader.create("Idempotent-Replayed", "true"));
        return doc.hasNonNull("location") ? r.addHeader(Location.create(doc.get("location").asText())) : r;
    }

    private static byte[] crypt(int mode, byte[] secret, byte[] iv, byte[] data) {
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(mode, new SecretKeySpec(secret, "AES"), new GCMParameterSpec(128, iv));
            return c.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("idempotency: cannot " + (mode == Cipher.ENCRYPT_MODE ? "seal" : "open")
                    + " a kept answer", e);
        }
    }

    private static byte[] secret(String tenant, String key) {
        return sha256("drover-idempotency\u0000" + tenant + '\u0000' + key);
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256Hex(String s) {
        return HexFormat.of().formatHex(sha256(s));
    }
}
