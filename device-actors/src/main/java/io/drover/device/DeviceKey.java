package io.drover.device;

import java.util.regex.Pattern;

/**
 * A device's identity: the tenant it belongs to and its id inside that tenant. The sharding entity
 * id (and so the persistence id suffix) is {@code tenantId:deviceId}; it cannot change once
 * events exist.
 */
public record DeviceKey(String tenantId, String deviceId) implements DeviceSerializable {

    public static final Pattern TENANT_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    public static final Pattern DEVICE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

    public DeviceKey {
        if (tenantId == null || !TENANT_ID.matcher(tenantId).matches()) {
            throw new IllegalArgumentException("invalid tenant id: " + tenantId);
        }
        if (deviceId == null || !DEVICE_ID.matcher(deviceId).matches()) {
            throw new IllegalArgumentException("invalid device id: " + deviceId);
        }
    }

    public static boolean validDeviceId(String id) {
        return id != null && DEVICE_ID.matcher(id).matches();
    }

    public String entityId() {
        return tenantId + ":" + deviceId;
    }

    public static DeviceKey fromEntityId(String entityId) {
        int i = entityId.indexOf(':');
        if (i < 0) {
            throw new IllegalArgumentException("entity id without tenant: " + entityId);
        }
        return new DeviceKey(entityId.substring(0, i), entityId.substring(i + 1));
    }

    @Override
    public String toString() {
        return entityId();
    }
}
