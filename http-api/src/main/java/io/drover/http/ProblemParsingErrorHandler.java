package io.drover.http;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * Requests too malformed for the routes (a request line or URI over the limits, headers too large, a bad HTTP
 * version): Pekko HTTP answers them before any route runs, and by default in plain text. This gives them the same
 * problem documents with stable codes as everything else ({@code pekko.http.server.parsing.error-handler};
 * found by {@code FuzzApiTest}: 414s in plain text).
 */
public final class ProblemParsingErrorHandler extends ParsingErrorHandler {

    @Override
    public HttpResponse handle(StatusCode status, ErrorInfo error, LoggingAdapter log, ServerSettings settings) {
        log.debug("Request refused before routing: {} {}", status, error.summary());
        String code = switch (status.intValue()) {
            case 400 -> "bad-request";
            case 413 -> "body-too-large";
            case 414 -> "uri-too-long";
            case 431 -> "headers-too-large";
            case 505 -> "http-version-not-supported";
            default -> "http-" + status.intValue();
        };
        return Problems.response(status, code, error.summary(), null);
    }
}
