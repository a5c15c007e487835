package io.drover.http;

import io.drover.device.Device;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/** Maps a twin's reply to the expected success type, or its rejection to an {@link ApiProblem}. */
final class TwinReplies {

    private TwinReplies() {}

    static <T extends Device.Reply> T expect(ApiMetrics metrics, String command, Device.Reply reply, Class<T> type) {
        if (type.isInstance(reply)) {
            metrics.twin(command, "ok");
            return type.cast(reply);
        }
        if (reply instanceof Device.Rejected r) {
            metrics.twin(command, r.code().name().toLowerCase());
            throw problem(r);
        }
        metrics.twin(command, "unexpected");
        throw new IllegalStateException("unexpected twin reply " + reply.getClass().getSimpleName() + " to " + command);
    }

    static ApiProblem problem(Device.Rejected r) {
        return switch (r.code()) {
            case NOT_FOUND -> ApiProblem.notFound("device-not-found", r.message());
            case ALREADY_EXISTS -> new ApiProblem(StatusCodes.CONFLICT, "device-exists", r.message());
            case DECOMMISSIONED -> new ApiProblem(StatusCodes.GONE, "device-decommissioned", r.message());
            case INVALID_STATE -> new ApiProblem(StatusCodes.CONFLICT, "invalid-device-state", r.message());
            case VERSION_MISMATCH -> new ApiProblem(StatusCodes.PRECONDITION_FAILED, "version-mismatch", r.message());
            case SHADOW_TOO_LARGE -> new ApiProblem(StatusCodes.PAYLOAD_TOO_LARGE, "shadow-too-large", r.message());
            case INVALID_INPUT -> ApiProblem.badRequest("invalid-body", r.message());
            case DEVICE_OFFLINE -> new ApiProblem(StatusCodes.CONFLICT, "device-offline", r.message());
            case TOO_MANY_PENDING -> new ApiProblem(StatusCodes.TOO_MANY_REQUESTS, "too-many-pending-commands", r.message(),
                    java.util.Map.of("retryAfterSeconds", 60));
            case COMMAND_NOT_FOUND -> ApiProblem.notFound("command-not-found", r.message());
            case BAD_CREDENTIALS -> new ApiProblem(StatusCodes.UNAUTHORIZED, "invalid-device-credentials", r.message());
        };
    }
}
