package io.drover.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one exception handler and the one rejection handler of the API: every failure leaves as
 * {@code application/problem+json} (RFC 9457) with a stable {@code code}; timeouts are 503;
 * anything unexpected is a 500 with a correlation id, logged here, never a stack trace.
 */
public final class Problems {

    private static final Logger log = LoggerFactory.getLogger(Problems.class);

    private static final java.util.Set<String> RESERVED = java.util.Set.of("type", "title", "status", "code", "detail");

    private Problems() {}

    public static HttpResponse response(StatusCode status, String code, String detail, Object extra) {
        ObjectNode body = ApiJson.MAPPER.createObjectNode();
        body.put("type", "urn:drover:problem:" + code);
        body.put("title", title(status));
        body.put("status", status.intValue());
        body.put("code", code);
        body.put("detail", detail);
        if (extra instanceof Map<?, ?> m) {
            m.forEach((k, v) -> {
                if (!RESERVED.contains(k.toString())) { // the problem's own members are never overwritten
                    body.set(k.toString(), ApiJson.MAPPER.valueToTree(v));
                }
            });
        }
        HttpResponse r = HttpResponse.create().withStatus(status)
                .withEntity(HttpEntities.create(ApiJson.PROBLEM, ApiJson.bytes(body)));
        if (extra instanceof Map<?, ?> m && m.get("retryAfterSeconds") instanceof Number n) {
            r = r.addHeader(RetryAfter.create(n.longValue()));
        }
        return r;
    }

    private static String title(StatusCode s) {
        return s instanceof org.apache.pekko.http.scaladsl.model.StatusCode sc ? sc.reason() : "Error";
    }

    public static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /**
     * For {@code exceptionally} after a store call that takes a cursor: the store's IllegalArgumentException
     * (a cursor it did not issue) becomes 400 invalid-cursor; anything else fails on unchanged.
     */
    public static <T> T invalidCursor(Throwable failure) {
        if (unwrap(failure) instanceof IllegalArgumentException) {
            throw ApiProblem.badRequest("invalid-cursor", "the cursor is not one this API issued");
        }
        throw failure instanceof RuntimeException re ? re : new CompletionException(failure);
    }

    /**
     * Cassandra could not do it now — no node reachable, not enough replicas, a read or write timeout (the
     * coordinator's) or failure, an overloaded or bootstrapping node, a connection at its limit: 503 with
     * Retry-After, never a 500. A query Cassandra rejects as wrong (syntax, invalid) stays a 500: that is a bug.
     */
    static boolean storageUnavailable(Throwable t) {
        return t instanceof com.datastax.oss.driver.api.core.AllNodesFailedException
                || t instanceof com.datastax.oss.driver.api.core.servererrors.UnavailableException
                || t instanceof com.datastax.oss.driver.api.core.servererrors.QueryConsistencyException
                || t instanceof com.datastax.oss.driver.api.core.servererrors.OverloadedException
                || t instanceof com.datastax.oss.driver.api.core.servererrors.BootstrappingException
                || t instanceof com.datastax.oss.driver.api.core.connection.BusyConnectionException
                || t instanceof com.datastax.oss.driver.api.core.connection.ClosedConnectionException
                || t instanceof com.datastax.oss.driver.api.core.connection.HeartbeatException;
    }

    /** Turns any failure into a problem response; {@code correlationId} goes into 500s and the log. */
    public static HttpResponse fromThrowable(Throwable failure, String correlationId, ApiMetrics metrics) {
        Throwable t = unwrap(failure);
        if (t instanceof ApiProblem p) {
            return response(p.status(), p.code(), p.getMessage(), p.extra());
        }
        if (t instanceof org.apache.pekko.http.scaladsl.model.IllegalRequestException ire) {
            // toStrictEntity reports a chunked body over the limit as 400 "Request too large"
            boolean tooLarge = ire.status().intValue() == 413 || ire.info().summary().startsWith("Request too large");
            metrics.rejected(tooLarge ? "body-too-large" : "bad-request");
            return response(tooLarge ? StatusCodes.PAYLOAD_TOO_LARGE : ire.status(), tooLarge ? "body-too-large" : "bad-request",
                    tooLarge ? "the request body is too large" : ire.info().summary(), null);
        }
        if (t instanceof EntityStreamSizeException) {
            metrics.rejected("body-too-large");
            return response(StatusCodes.PAYLOAD_TOO_LARGE, "body-too-large", "the request body is too large", null);
        }
        if (t instanceof io.drover.shard.RuleClient.Rejected r) {
            return ruleRejected(r.rejection());
        }
        if (t instanceof io.drover.shard.AlarmClient.Rejected a) {
            return a.code() == io.drover.rules.Alarm.Rejection.NOT_FOUND
                    ? response(StatusCodes.NOT_FOUND, "alarm-not-found", a.getMessage(), null)
                    : response(StatusCodes.CONFLICT, "alarm-superseded", a.getMessage(), null);
        }
        if (t instanceof TimeoutException || t instanceof com.datastax.oss.driver.api.core.DriverTimeoutException) {
            metrics.rejected("timeout");
            return response(StatusCodes.SERVICE_UNAVAILABLE, "timeout",
                    "the request timed out inside Drover; it may or may not have taken effect, retry it",
                    Map.of("retryAfterSeconds", 1));
        }
        if (storageUnavailable(t)) {
            metrics.rejected("storage-unavailable");
            return response(StatusCodes.SERVICE_UNAVAILABLE, "storage-unavailable", "storage is not reachable right now",
                    Map.of("retryAfterSeconds", 5));
        }
        org.slf4j.MDC.put("correlationId", correlationId); // a field of its own in JSON logs
        try {
            log.error("Unhandled failure, correlation id {}", correlationId, t);
        } finally {
            org.slf4j.MDC.remove("correlationId");
        }
        return response(StatusCodes.INTERNAL_SERVER_ERROR, "internal-error",
                "something went wrong inside Drover; quote the correlation id when reporting it",
                Map.of("correlationId", correlationId));
    }

    /** The rule set's rejections, one stable code each. */
    private static HttpResponse ruleRejected(io.drover.rules.RuleSet.Rejected r) {
        return switch (r.code()) {
            case NOT_FOUND -> response(StatusCodes.NOT_FOUND, "rule-not-found", r.message(), null);
            case ALREADY_EXISTS -> response(StatusCodes.CONFLICT, "rule-exists", r.message(), null);
            case INVALID_RULE -> {
                ApiProblem p = RuleRoutes.invalid(r.field(), r.position(), r.message());
                yield response(p.status(), p.code(), p.getMessage(), p.extra());
            }
            case VERSION_MISMATCH -> response(StatusCodes.PRECONDITION_FAILED, "version-mismatch", r.message(), null);
            case VERSION_NOT_FOUND -> response(StatusCodes.NOT_FOUND, "rule-version-not-found", r.message(), null);
            case TOO_MANY_RULES -> response(StatusCodes.CONFLICT, "too-many-rules", r.message(), null);
        };
    }

    public static ExceptionHandler exceptionHandler(String correlationId, ApiMetrics metrics) {
        return ExceptionHandler.newBuilder()
                .matchAny(t -> complete(fromThrowable(t, correlationId, metrics)))
                .build();
    }

    /** Pekko's standard rejections (405, 404, missing parameters…), re-dressed as problem documents. */
    public static RejectionHandler rejectionHandler() {
        return RejectionHandler.defaultHandler().mapRejectionResponse(resp -> {
            if (resp.entity().getContentType().equals(ApiJson.PROBLEM)) {
                return resp;
            }
            String detail = resp.entity() instanceof HttpEntity.Strict s ? s.getData().utf8String() : title(resp.status());
            return response(resp.status(), codeFor(resp.status()), detail, null);
        });
    }

    private static String codeFor(StatusCode s) {
        return switch (s.intValue()) {
            case 400 -> "bad-request";
            case 401 -> "missing-credentials";
            case 404 -> "not-found";
            case 405 -> "method-not-allowed";
            case 406 -> "not-acceptable";
            case 413 -> "body-too-large";
            case 415 -> "unsupported-media-type";
            default -> "http-" + s.intValue();
        };
    }
}
