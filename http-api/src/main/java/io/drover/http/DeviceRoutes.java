package io.drover.http;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.patch;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.put;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.persistence.DeviceDirectory;
import io.drover.shard.DeviceClient;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code /api/v1/devices}: registration, metadata, lifecycle and credentials. The caller's tenant
 * scopes every id, so another tenant's device is simply not found.
 */
public final class DeviceRoutes {

    private static final int MAX_LABELS = 32;

    private final DeviceClient devices;
    private final DeviceDirectory directory;
    private final ApiMetrics metrics;
    private final Bodies bodies;
    private final HttpSettings settings;
    private final Idempotency idempotency;
    private final ShadowRoutes shadow;
    private final CommandRoutes commands;
    private final TelemetryRoutes telemetry;

    /** The lifecycle states a list can be filtered by (their wire names, as {@code state} in the answers). */
    private static final List<String> STATES = java.util.Arrays.stream(Device.Lifecycle.values())
            .map(l -> l.name().toLowerCase(java.util.Locale.ROOT)).toList();

    public DeviceRoutes(DeviceClient devices, DeviceDirectory directory, ShadowRoutes shadow, CommandRoutes commands,
            TelemetryRoutes telemetry, ApiMetrics metrics, Bodies bodies, HttpSettings settings, Idempotency idempotency) {
        this.idempotency = idempotency;
        this.commands = commands;
        this.telemetry = telemetry;
        this.devices = devices;
        this.directory = directory;
        this.shadow = shadow;
        this.metrics = metrics;
        this.bodies = bodies;
        this.settings = settings;
    }

    public Route route(Principal principal) {
        return pathPrefix("devices", () -> concat(
                pathEnd(() -> concat(
                        get(() -> list(principal)),
                        post(() -> create(principal)))),
                pathPrefix(segment(), id -> {
                    DeviceKey key = key(principal, id);
                    return concat(
                            pathEnd(() -> concat(
                                    get(() -> one(key)),
                                    patch(() -> update(principal, key)),
                                    delete(() -> decommission(principal, key)))),
                            path("suspend", () -> post(() -> lifecycle(principal, key, "suspend", devices::suspend))),
                            path("activate", () -> post(() -> lifecycle(principal, key, "activate", devices::activate))),
                            path(segment("credentials").slash("rotate"), () -> post(() -> rotate(principal, key))),
                            path(segment("credentials").slash("x509"), () -> concat(
                                    put(() -> setCertificate(principal, key)),
                                    delete(() -> removeCertificate(principal, key)))),
                            pathPrefix("shadow", () -> shadow.route(principal, key)),
                            pathPrefix("commands", () -> commands.route(principal, key)),
                            pathPrefix("telemetry", () -> telemetry.deviceRoute(key)));
                })));
    }

    static DeviceKey key(Principal principal, String deviceId) {
        String tenant = principal.requireTenant();
        if (!DeviceKey.validDeviceId(deviceId)) {
            // an id that cannot exist is simply not found
            throw ApiProblem.notFound("device-not-found", "device " + deviceId + " does not exist");
        }
        return new DeviceKey(tenant, deviceId);
    }

    private Route create(Principal principal) {
        return optionalHeaderValueByName(Idempotency.HEADER, idemKey -> bodies.json(Dtos.CreateDevice.class, body -> {
            principal.requireWrite();
            String id = body.id() != null ? body.id() : "d-" + UUID.randomUUID();
            if (!DeviceKey.validDeviceId(id)) {
                throw ApiProblem.invalidField("id", "device ids are 1-128 of A-Z a-z 0-9 _ . - and start with a letter or digit");
            }
            validateMetadata(body.name(), body.type(), body.labels(), body.attributes());
            DeviceKey key = new DeviceKey(principal.requireTenant(), id);
            return completeWithFuture(idempotency.run(idemKey, key.tenantId(), "create-device", body, () -> devices
                    .register(key, body.name(), body.type(), body.labels(), body.attributes())
                    .thenApply(r -> TwinReplies.expect(metrics, "register", r, Device.TokenIssued.class))
                    .thenApply(issued -> ApiJson
                            .response(StatusCodes.CREATED, new Dtos.DeviceWithToken(Dtos.DeviceDto.of(issued.device()),
                                    issued.token()))
                            .addHeader(Location.create("/api/v1/devices/" + id)))));
        }));
    }

    private Route list(Principal principal) {
        return parameterOptional("cursor", cursor -> parameterOptional("limit", limit ->
                parameterOptional("type", type -> parameterOptional("label", label -> parameterOptional("state", state ->
                        parameterOptional("q", search -> parameterOptional("online", online -> {
                    int n = limit.map(l -> parsePositive("limit", l)).orElse(settings.defaultPageSize());
                    if (n > settings.maxPageSize()) {
                        throw ApiProblem.invalidField("limit", "limit is at most " + settings.maxPageSize());
                    }
                    state.ifPresent(s -> {
                        if (!STATES.contains(s)) {
                            throw ApiProblem.invalidField("state", "state is one of " + String.join(", ", STATES));
                        }
                    });
                    search.ifPresent(s -> {
                        if (s.isEmpty() || s.length() > 128) {
                            throw ApiProblem.invalidField("q", "q is 1-128 characters");
                        }
                    });
                    Optional<Boolean> on = online.map(o -> switch (o) {
                        case "true" -> true;
                        case "false" -> false;
                        default -> throw ApiProblem.invalidField("online", "online is true or false");
                    });
                    DeviceDirectory.Query q = new DeviceDirectory.Query(principal.requireTenant(), cursor, n, type, label,
                            state, search, on);
                    return completeWithFuture(metrics.cassandra("devices_list", () -> directory.list(q))
                            .exceptionally(Problems::invalidCursor)
                            .thenApply(page -> ApiJson.response(StatusCodes.OK, new Dtos.DevicePage(
                                    page.items().stream().map(Dtos.DeviceSummary::of).toList(),
                                    page.nextCursor().orElse(null)))));
                })))))));
    }

    private Route one(DeviceKey key) {
        return completeWithFuture(devices.get(key)
                .thenApply(r -> TwinReplies.expect(metrics, "get", r, Device.DeviceDetails.class))
                .thenApply(d -> ApiJson.response(StatusCodes.OK, Dtos.DeviceDto.of(d.device()))));
    }

    private Route update(Principal principal, DeviceKey key) {
        return bodies.json(Dtos.UpdateDevice.class, body -> {
            principal.requireWrite();
            validateMetadata(body.name(), body.type(), body.labels(), body.attributes());
            return completeWithFuture(changed("update_metadata",
                    devices.updateMetadata(key, body.name(), body.type(), body.labels(), body.attributes()))
                    .thenApply(v -> ApiJson.response(StatusCodes.OK, Dtos.DeviceDto.of(v))));
        });
    }

    private Route decommission(Principal principal, DeviceKey key) {
        principal.requireWrite();
        return completeWithFuture(changed("decommission", devices.decommission(key))
                .thenApply(v -> HttpResponse.create().withStatus(StatusCodes.NO_CONTENT)));
    }

    private Route lifecycle(Principal principal, DeviceKey key, String command,
            Function<DeviceKey, CompletionStage<Device.Reply>> call) {
        principal.requireWrite();
        return completeWithFuture(changed(command, call.apply(key))
                .thenApply(v -> ApiJson.response(StatusCodes.OK, Dtos.DeviceDto.of(v))));
    }

    /** A change the twin confirmed, with its new details (the list follows from the journal: DeviceListProjection). */
    private CompletionStage<Device.DeviceView> changed(String command, CompletionStage<Device.Reply> reply) {
        return reply.thenApply(r -> TwinReplies.expect(metrics, command, r, Device.DeviceDetails.class).device());
    }

    public record SetCertificate(String fingerprint, String certificatePem) {}

    /** Registers the device's X.509 certificate (by SHA-256 fingerprint, or the PEM to take it from). */
    private Route setCertificate(Principal principal, DeviceKey key) {
        return bodies.json(SetCertificate.class, body -> {
            principal.requireWrite();
            String fp;
            if (body.certificatePem() != null) {
                fp = io.drover.device.X509.fingerprintOfPem(body.certificatePem())
                        .orElseThrow(() -> ApiProblem.invalidField("certificatePem", "not a PEM X.509 certificate"));
            } else if (body.fingerprint() != null) {
                fp = body.fingerprint().replace(":", "").toLowerCase();
                if (!fp.matches("[0-9a-f]{64}")) {
                    throw ApiProblem.invalidField("fingerprint", "the SHA-256 fingerprint: 64 hex digits (colons allowed)");
                }
            } else {
                throw ApiProblem.invalidField("certificatePem", "send certificatePem or fingerprint");
            }
            return completeWithFuture(changed("set_certificate", devices.setCertificate(key, fp))
                    .thenApply(v -> ApiJson.response(StatusCodes.OK, Dtos.DeviceDto.of(v))));
        });
    }

    private Route removeCertificate(Principal principal, DeviceKey key) {
        principal.requireWrite();
        return completeWithFuture(changed("set_certificate", devices.setCertificate(key, null))
                .thenApply(v -> ApiJson.response(StatusCodes.OK, Dtos.DeviceDto.of(v))));
    }

    private Route rotate(Principal principal, DeviceKey key) {
        principal.requireWrite();
        return completeWithFuture(devices.rotateCredentials(key)
                .thenApply(r -> TwinReplies.expect(metrics, "rotate_credentials", r, Device.TokenIssued.class))
                .thenApply(t -> ApiJson.response(StatusCodes.OK,
                        new Dtos.DeviceWithToken(Dtos.DeviceDto.of(t.device()), t.token()))));
    }

    static int parsePositive(String field, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n < 1) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw ApiProblem.invalidField(field, field + " must be a positive whole number");
        }
    }

    static void validateMetadata(String name, String type, List<String> labels, ObjectNode attributes) {
        if (name != null && (name.isBlank() || name.length() > 200)) {
            throw ApiProblem.invalidField("name", "name is 1 to 200 characters");
        }
        if (type != null && !type.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")) {
            throw ApiProblem.invalidField("type", "type is 1-64 of A-Z a-z 0-9 _ . -");
        }
        if (labels != null) {
            if (labels.size() > MAX_LABELS) {
                throw ApiProblem.invalidField("labels", "at most " + MAX_LABELS + " labels");
            }
            for (String l : labels) {
                if (l == null || !l.matches("[A-Za-z0-9][A-Za-z0-9_.:=/-]{0,63}")) {
                    throw ApiProblem.invalidField("labels", "a label is 1-64 of A-Z a-z 0-9 _ . : = / -");
                }
            }
        }
        if (attributes != null && io.drover.device.Shadows.sizeInBytes(attributes) > 16 * 1024) {
            throw ApiProblem.invalidField("attributes", "attributes are at most 16 KiB of JSON");
        }
    }
}
