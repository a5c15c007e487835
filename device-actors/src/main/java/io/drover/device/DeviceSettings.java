package io.drover.device;

import com.typesafe.config.Config;

/** Settings of the device entity, read once from {@code drover.device}. */
public record DeviceSettings(int maxShadowBytes, int snapshotEvery, int snapshotsKept, int commandsKept,
        int pendingCommandsMax, int eventTags, int commandResponseMaxBytes) {

    public DeviceSettings(int maxShadowBytes, int snapshotEvery, int snapshotsKept, int commandsKept,
            int pendingCommandsMax, int eventTags) {
        this(maxShadowBytes, snapshotEvery, snapshotsKept, commandsKept, pendingCommandsMax, eventTags, 16 * 1024);
    }

    public DeviceSettings(int maxShadowBytes, int snapshotEvery, int snapshotsKept) {
        this(maxShadowBytes, snapshotEvery, snapshotsKept, 50, 20);
    }

    public DeviceSettings(int maxShadowBytes, int snapshotEvery, int snapshotsKept, int commandsKept,
            int pendingCommandsMax) {
        this(maxShadowBytes, snapshotEvery, snapshotsKept, commandsKept, pendingCommandsMax, 12);
    }

    public static DeviceSettings fromConfig(Config root) {
        Config c = root.getConfig("drover.device");
        return new DeviceSettings(
                (int) c.getMemorySize("shadow-max-size").toBytes(),
                c.getInt("snapshot-every"),
                c.getInt("snapshots-kept"),
                c.getInt("commands-kept"),
                c.getInt("pending-commands-max"),
                c.getInt("event-tags"),
                (int) c.getMemorySize("command-response-max-size").toBytes());
    }
}
