package io.drover.mqtt;

import io.drover.device.DeviceKey;
import java.util.Optional;

/**
 * How a device names itself on MQTT: client id {@code {tenantId}:{deviceId}}; the username, when
 * given, must be the same string; the password is the device's access token. Client ids are
 * unique per broker, so one session per device.
 */
public final class DeviceIdentity {

    private DeviceIdentity() {}

    public static Optional<DeviceKey> fromClientId(String clientId) {
        int i = clientId.indexOf(':');
        if (i <= 0 || i == clientId.length() - 1) {
            return Optional.empty();
        }
        String tenant = clientId.substring(0, i);
        String device = clientId.substring(i + 1);
        if (!DeviceKey.TENANT_ID.matcher(tenant).matches() || !DeviceKey.validDeviceId(device)) {
            return Optional.empty();
        }
        return Optional.of(new DeviceKey(tenant, device));
    }
}
