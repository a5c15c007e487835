package io.drover.http;

import static org.apache.pekko.http.javadsl.server.Directives.extractRequestEntity;
import static org.apache.pekko.http.javadsl.server.Directives.extractStrictEntity;

import java.time.Duration;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/** Request bodies: size cap (413), JSON media type (415), then strict parsing (400). */
public final class Bodies {

    private final long maxBytes;
    private final Duration timeout;

    public Bodies(HttpSettings settings) {
        this.maxBytes = settings.maxBodyBytes();
        this.timeout = settings.bodyReadTimeout();
    }

    /** The body's bytes, after the size and media-type checks. */
    public Route json(Function<byte[], Route> inner) {
        return extractRequestEntity(declared -> {
            if (declared.getContentLengthOption().orElse(0L) > maxBytes) {
                throw tooLarge(); // refuse before reading a byte
            }
            return strict(inner);
        });
    }

    private Route strict(Function<byte[], Route> inner) {
        return extractStrictEntity(timeout, maxBytes + 1, entity -> {
            byte[] bytes = entity.getData().toArray();
            if (bytes.length > maxBytes) {
                throw tooLarge();
            }
            checkMediaType(entity);
            return inner.apply(bytes);
        });
    }

    public <T> Route json(Class<T> type, Function<T, Route> inner) {
        return json(bytes -> inner.apply(ApiJson.read(bytes, type)));
    }

    ApiProblem tooLarge() {
        return new ApiProblem(StatusCodes.PAYLOAD_TOO_LARGE, "body-too-large",
                "the request body is larger than " + maxBytes + " bytes");
    }

    private static void checkMediaType(HttpEntity entity) {
        var mt = entity.getContentType().mediaType();
        boolean json = mt.mainType().equals("application")
                && (mt.subType().equals("json") || mt.subType().equals("merge-patch+json"));
        if (!json) {
            throw new ApiProblem(StatusCodes.UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type",
                    "send the body as application/json (or application/merge-patch+json), not " + mt);
        }
    }
}
