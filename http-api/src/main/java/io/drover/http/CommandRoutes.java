package io.drover.http;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.device.Shadows;
import io.drover.shard.DeviceClient;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code /api/v1/devices/{id}/commands}: RPC to a device over its MQTT session.
 * <ul>
 *   <li>one-way: 202 once handed to the device's session;</li>
 *   <li>two-way: waits for the device's answer up to {@code timeoutSeconds}; 200 with the response,
 *       or 504 {@code command-timeout} with the command id (its final status: GET …/commands/{id});</li>
 *   <li>persistent: 202 at once; queued for an offline device and delivered when it comes back, until
 *       {@code ttlSeconds}.</li>
 * </ul>
 */
public final class CommandRoutes {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    private static final int MAX_TIMEOUT_SECONDS = 60;
    private static final int MAX_TTL_SECONDS = 7 * 24 * 3600;
    private static final int ONE_WAY_DELIVERY_SECONDS = 5;

    private final DeviceClient devices;
    private final ApiMetrics metrics;
    private final Bodies bodies;
    /** The longest two-way wait an HTTP request can hold: the server's request timeout less a margin. */
    private final int maxTimeoutSeconds;
    private final Idempotency idempotency;

    /** @param requestTimeout {@code pekko.http.server.request-timeout} */
    public CommandRoutes(DeviceClient devices, ApiMetrics metrics, Bodies bodies, Duration requestTimeout,
            Idempotency idempotency) {
        this.idempotency = idempotency;
        this.devices = devices;
        this.metrics = metrics;
        this.bodies = bodies;
        this.maxTimeoutSeconds = (int) Math.max(1, Math.min(MAX_TIMEOUT_SECONDS, requestTimeout.toSeconds() - 2));
    }

    Route route(Principal principal, DeviceKey key) {
        return concat(
                pathEnd(() -> concat(
                        post(() -> send(principal, key)),
                        get(() -> list(key)))),
                path(segment(), id -> get(() -> one(key, id))));
    }

    public record SendCommand(String id, String name, com.fasterxml.jackson.databind.node.ObjectNode params, Boolean twoWay,
            Integer timeoutSeconds, Boolean persistent, Integer ttlSeconds) {}

    public record CommandDto(String id, String name, Object params, boolean twoWay, boolean persistent, String status,
            java.time.Instant requestedAt, java.time.Instant expiresAt, java.time.Instant deliveredAt,
            java.time.Instant respondedAt, Object response, String failure) {

        static CommandDto of(Device.CommandRecord c) {
            return new CommandDto(c.id(), c.name(), c.params(), c.twoWay(), c.persistent(), c.status().name().toLowerCase(),
                    c.requestedAt(), c.expiresAt(), c.deliveredAt(), c.respondedAt(), c.response(), c.failure());
        }
    }

    public record CommandListDto(java.util.List<CommandDto> items) {}

    private Route send(Principal principal, DeviceKey key) {
        return optionalHeaderValueByName(Idempotency.HEADER, idemKey -> bodies.json(SendCommand.class, body -> {
            principal.requireWrite();
            if (body.name() == null || !NAME.matcher(body.name()).matches()) {
                throw ApiProblem.invalidField("name", "name is 1-64 of A-Z a-z 0-9 _ . - and starts with a letter or digit");
            }
            if (body.id() != null && !NAME.matcher(body.id()).matches()) {
                throw ApiProblem.invalidField("id", "id is 1-64 of A-Z a-z 0-9 _ . -");
            }
            int timeout = body.timeoutSeconds() == null ? 10 : body.timeoutSeconds();
            if (timeout < 1 || timeout > maxTimeoutSeconds) {
                throw ApiProblem.invalidField("timeoutSeconds", "timeoutSeconds is 1 to " + maxTimeoutSeconds
                        + " (an answer must come within the HTTP request's own timeout)");
            }
            boolean persistent = Boolean.TRUE.equals(body.persistent());
            boolean twoWay = Boolean.TRUE.equals(body.twoWay());
            int ttl = body.ttlSeconds() == null ? (persistent ? 24 * 3600 : timeout) : body.ttlSeconds();
            if (ttl < 1 || ttl > MAX_TTL_SECONDS) {
                throw ApiProblem.invalidField("ttlSeconds", "ttlSeconds is 1 to " + MAX_TTL_SECONDS);
            }
            if (body.params() != null && Shadows.sizeInBytes(body.params()) > 16 * 1024) {
                throw ApiProblem.invalidField("params", "params are at most 16 KiB of JSON");
            }
            String id = body.id() != null ? body.id() : "c-" + UUID.randomUUID();
            java.util.function.Supplier<CompletionStage<HttpResponse>> response = () -> devices.ask(key, r -> new Device.RequestCommand(id, body.name(),
                            body.params(), twoWay, persistent, Duration.ofSeconds(ttl),
                            twoWay ? Duration.ofSeconds(timeout) : null, r))
                    .thenApply(r -> TwinReplies.expect(metrics, "request_command", r, Device.CommandDetails.class).command())
                    .thenCompose(c -> {
                        if (twoWay) {
                            return await(key, c, EnumSet.of(Device.CommandStatus.RESPONDED, Device.CommandStatus.FAILED,
                                    Device.CommandStatus.EXPIRED), timeout).thenApply(done -> answerTwoWay(done));
                        }
                        if (persistent) {
                            return CompletableFuture.completedFuture(ApiJson.response(StatusCodes.ACCEPTED, CommandDto.of(c)));
                        }
                        return await(key, c, EnumSet.complementOf(EnumSet.of(Device.CommandStatus.REQUESTED)),
                                ONE_WAY_DELIVERY_SECONDS).thenApply(done -> answerOneWay(done));
                    });
            return completeWithFuture(idempotency.run(idemKey, key.tenantId(), "command:" + key.deviceId(), body, response));
        }));
    }

    private CompletionStage<Device.CommandRecord> await(DeviceKey key, Device.CommandRecord c,
            EnumSet<Device.CommandStatus> until, int seconds) {
        if (until.contains(c.status())) {
            return CompletableFuture.completedFuture(c);
        }
        Duration wait = Duration.ofSeconds(seconds);
        return devices.ask(key, r -> new Device.AwaitCommand(c.id(), until, wait, r), wait.plusSeconds(5))
                .thenApply(r -> TwinReplies.expect(metrics, "await_command", r, Device.CommandDetails.class).command());
    }

    private static HttpResponse answerTwoWay(Device.CommandRecord c) {
        if (c.status() == Device.CommandStatus.EXPIRED && c.deliveredAt() != null) {
            // delivered, and the device did not answer within timeoutSeconds: the twin expired it
            return Problems.response(StatusCodes.GATEWAY_TIMEOUT, "command-timeout",
                    "the device did not answer in time; the command expired", Map.of("commandId", c.id(),
                            "commandStatus", c.status().name().toLowerCase()));
        }
        return switch (c.status()) {
            case RESPONDED -> ApiJson.response(StatusCodes.OK, CommandDto.of(c));
            case FAILED, EXPIRED -> failed(c);
            default -> Problems.response(StatusCodes.GATEWAY_TIMEOUT, "command-timeout",
                    "the device did not answer in time; GET …/commands/" + c.id() + " gives its final status",
                    Map.of("commandId", c.id(), "commandStatus", c.status().name().toLowerCase()));
        };
    }

    private static HttpResponse answerOneWay(Device.CommandRecord c) {
        return switch (c.status()) {
            case DELIVERED, RESPONDED -> ApiJson.response(StatusCodes.ACCEPTED, CommandDto.of(c));
            case FAILED, EXPIRED -> failed(c);
            default -> Problems.response(StatusCodes.GATEWAY_TIMEOUT, "command-timeout",
                    "the command was not handed to the device in time", Map.of("commandId", c.id()));
        };
    }

    private static HttpResponse failed(Device.CommandRecord c) {
        return Problems.response(StatusCodes.CONFLICT, "command-failed",
                "command " + c.id() + " " + c.status().name().toLowerCase() + ": " + c.failure(),
                Map.of("commandId", c.id(), "commandStatus", c.status().name().toLowerCase()));
    }

    private Route one(DeviceKey key, String id) {
        return completeWithFuture(devices.ask(key, r -> new Device.GetCommand(id, r))
                .thenApply(r -> TwinReplies.expect(metrics, "get_command", r, Device.CommandDetails.class))
                .thenApply(d -> ApiJson.response(StatusCodes.OK, CommandDto.of(d.command()))));
    }

    private Route list(DeviceKey key) {
        return completeWithFuture(devices.ask(key, Device.ListCommands::new)
                .thenApply(r -> TwinReplies.expect(metrics, "list_commands", r, Device.CommandList.class))
                .thenApply(l -> ApiJson.response(StatusCodes.OK,
                        new CommandListDto(l.commands().stream().map(CommandDto::of).toList()))));
    }
}
