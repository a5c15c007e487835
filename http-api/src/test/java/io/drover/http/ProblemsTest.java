package io.drover.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.servererrors.ReadTimeoutException;
import com.datastax.oss.driver.api.core.servererrors.SyntaxError;
import com.datastax.oss.driver.api.core.servererrors.WriteTimeoutException;
import com.datastax.oss.driver.api.core.servererrors.WriteType;
import java.util.concurrent.CompletionException;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.junit.jupiter.api.Test;

/** How failures become problem documents: storage trouble is a 503 with Retry-After, never a 500. */
class ProblemsTest {

    private static final ApiMetrics METRICS = new ApiMetrics(new io.prometheus.metrics.model.registry.PrometheusRegistry(), false);

    private static HttpResponse of(Throwable t) {
        return Problems.fromThrowable(new CompletionException(t), "cid", METRICS);
    }

    @Test
    void cassandraTimeoutsAre503WithRetryAfter() {
        for (Throwable t : new Throwable[] {
                new ReadTimeoutException(null, DefaultConsistencyLevel.QUORUM, 1, 2, true),
                new WriteTimeoutException(null, DefaultConsistencyLevel.QUORUM, 1, 2, WriteType.SIMPLE)}) {
            HttpResponse r = of(t);
            assertEquals(503, r.status().intValue(), t.toString());
            assertTrue(r.getHeader(RetryAfter.class).isPresent(), "Retry-After on " + t);
        }
        assertEquals(500, of(new SyntaxError(null, "bad cql")).status().intValue(), "a wrong query is a bug: 500");
    }

    @Test
    void badFieldValuesNameNoJavaTypes() {
        ApiProblem p = org.junit.jupiter.api.Assertions.assertThrows(ApiProblem.class, () -> ApiJson.read(
                "{\"name\":\"k\",\"role\":\"viewer\",\"expiresAt\":\"yesterday\"}".getBytes(), Dtos.CreateApiKey.class));
        assertEquals("invalid-field", p.code());
        assertFalse(p.getMessage().contains("java.") || p.getMessage().contains("`"), p.getMessage());
        assertTrue(p.getMessage().contains("ISO-8601"), p.getMessage());
    }
}
