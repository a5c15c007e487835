package io.drover.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.drover.device.Device;
import io.drover.persistence.ApiKey;
import io.drover.persistence.DeviceListing;
import io.drover.persistence.ShadowHistory;
import io.drover.persistence.Tenant;
import java.time.Instant;
import java.util.List;

/**
 * The API's request and response bodies, kept apart from the entity's events and state: clients
 * never see the journal format, and either side can change behind a mapper.
 */
public final class Dtos {

    private Dtos() {}

    // ---------------------------------------------------------------- requests

    public record CreateDevice(String id, String name, String type, List<String> labels, ObjectNode attributes) {}

    public record UpdateDevice(String name, String type, List<String> labels, ObjectNode attributes) {}

    public record CreateTenant(String id, String name) {}

    public record CreateApiKey(String name, String role, Instant expiresAt) {}

    // ---------------------------------------------------------------- responses

    public record DeviceDto(
            String id, String tenantId, String name, String type, List<String> labels, ObjectNode attributes,
            String state, Instant createdAt, Instant updatedAt, Instant credentialsRotatedAt, long shadowVersion,
            ConnectivityDto connectivity, String certificateFingerprint) {

        static DeviceDto of(Device.DeviceView v) {
            Device.ConnectivityView c = v.connectivity();
            return new DeviceDto(v.deviceId(), v.tenantId(), v.name(), v.type(), v.labels(), v.attributes(),
                    v.lifecycle().name().toLowerCase(), v.createdAt(), v.updatedAt(), v.credentialsRotatedAt(),
                    v.shadowVersion(), new ConnectivityDto(c.online(), c.node(), c.lastConnectedAt(),
                            c.lastDisconnectedAt(), c.lastDisconnectReason(), c.lastSeenAt()), v.certificateFingerprint());
        }
    }

    /** Where the device is connected; {@code lastSeenAt} is kept in memory only (a restart forgets it). */
    public record ConnectivityDto(
            boolean online, String node, Instant lastConnectedAt, Instant lastDisconnectedAt, String lastDisconnectReason,
            Instant lastSeenAt) {}

    /** Returned once, at creation and rotation: the only time the token is visible. */
    public record DeviceWithToken(DeviceDto device, String token) {}

    public record DeviceSummary(
            String id, String name, String type, List<String> labels, String state, Instant createdAt, Instant updatedAt,
            boolean online) {

        static DeviceSummary of(DeviceListing d) {
            return new DeviceSummary(d.deviceId(), d.name(), d.type(), d.labels(), d.lifecycle(), d.createdAt(),
                    d.updatedAt(), d.online());
        }
    }

    public record DevicePage(List<DeviceSummary> items, String nextCursor) {}

    public record ShadowMetadata(ObjectNode desired, ObjectNode reported) {}

    public record ShadowDto(
            String deviceId, long version, ObjectNode desired, ObjectNode reported, ObjectNode delta,
            ShadowMetadata metadata, Instant updatedAt) {

        static ShadowDto of(String deviceId, Device.ShadowView s) {
            return new ShadowDto(deviceId, s.version(), s.desired(), s.reported(), s.delta(),
                    new ShadowMetadata(s.desiredMetadata(), s.reportedMetadata()), s.updatedAt());
        }
    }

    public record DeltaDto(String deviceId, long version, ObjectNode delta) {}

    public record ShadowAt(Instant at, ShadowDto shadow) {}

    public record ShadowChangeDto(long version, Instant at, String document, ObjectNode patch) {
        static ShadowChangeDto of(ShadowHistory.Change c) {
            return new ShadowChangeDto(c.version(), c.at(), c.document(), c.patch());
        }
    }

    /** @param nextCursor older changes: {@code ?cursor=} it (null: none older) */
    public record ShadowChanges(String deviceId, List<ShadowChangeDto> changes, String nextCursor) {}

    /** A tenant's retention in days; in a PUT, a missing field means the deployment's default. */
    public record RetentionDto(Integer rawDays, Integer rollup1mDays, Integer rollup1hDays) {}

    /** What GET/PUT retention answer: the days in force and what the tenant set itself. */
    public record RetentionView(RetentionDto effective, RetentionDto overrides) {
        static RetentionView of(io.drover.persistence.Retention.Overrides o, io.drover.persistence.Retention defaults) {
            var r = io.drover.persistence.Retention.of(o, defaults);
            return new RetentionView(new RetentionDto(r.rawDays(), r.rollup1mDays(), r.rollup1hDays()),
                    new RetentionDto(o.rawDays(), o.rollup1mDays(), o.rollup1hDays()));
        }
    }

    public record TenantDto(String id, String name, Instant createdAt) {
        static TenantDto of(Tenant t) {
            return new TenantDto(t.tenantId(), t.name(), t.createdAt());
        }
    }

    public record ApiKeyDto(String id, String tenantId, String name, String role, Instant createdAt, Instant expiresAt) {
        static ApiKeyDto of(ApiKey k) {
            return new ApiKeyDto(k.keyId(), k.tenantId(), k.name(), k.role().wire(), k.createdAt(),
                    k.expiresAt().orElse(null));
        }
    }

    /** A new key with its secret: shown once. */
    public record NewApiKey(ApiKeyDto apiKey, String key) {}

    public record NewTenant(TenantDto tenant, NewApiKey adminKey) {}

    public record ApiKeyList(List<ApiKeyDto> items) {}
}
