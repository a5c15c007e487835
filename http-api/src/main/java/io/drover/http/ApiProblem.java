package io.drover.http;

import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/**
 * A client-visible failure: HTTP status, a stable machine-readable {@code code} and a human
 * sentence. Thrown (or failed in a future) anywhere below the root route; the one exception handler
 * turns it into {@code application/problem+json}.
 */
public final class ApiProblem extends RuntimeException {

    private final StatusCode status;
    private final String code;
    private final transient Object extra;

    public ApiProblem(StatusCode status, String code, String detail) {
        this(status, code, detail, null);
    }

    public ApiProblem(StatusCode status, String code, String detail, Object extra) {
        super(detail, null, false, false);
        this.status = status;
        this.code = code;
        this.extra = extra;
    }

    public StatusCode status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** Extra members merged into the problem document (e.g. the field that was wrong). */
    public Object extra() {
        return extra;
    }

    public static ApiProblem badRequest(String code, String detail) {
        return new ApiProblem(StatusCodes.BAD_REQUEST, code, detail);
    }

    public static ApiProblem invalidField(String field, String detail) {
        return new ApiProblem(StatusCodes.BAD_REQUEST, "invalid-field", detail, java.util.Map.of("field", field));
    }

    public static ApiProblem notFound(String code, String detail) {
        return new ApiProblem(StatusCodes.NOT_FOUND, code, detail);
    }

    public static ApiProblem forbidden(String detail) {
        return new ApiProblem(StatusCodes.FORBIDDEN, "forbidden", detail);
    }
}
