package io.drover.rules;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Bounds of the rules context, read once from {@code drover.rules} (reference.conf says what each is for).
 */
public record RulesSettings(
        int maxRulesPerTenant,
        int versionsKept,
        int maxActions,
        Duration maxFor,
        Duration maxWindow,
        int windowMaxSamples,
        int maxKeysTracked,
        int maxAlarmDetailsBytes,
        int flappingChanges,
        Duration flappingWindow,
        int snapshotEvery,
        int eventTags,
        Duration factsTtl) {

    public static RulesSettings defaults() {
        return new RulesSettings(1000, 50, 10, Duration.ofDays(1), Duration.ofHours(1), 10_000, 1024, 4096, 5,
                Duration.ofMinutes(10), 100, 12, Duration.ofSeconds(5));
    }

    public static RulesSettings fromConfig(Config root) {
        Config c = root.getConfig("drover.rules");
        return new RulesSettings(
                c.getInt("max-rules-per-tenant"),
                c.getInt("versions-kept"),
                c.getInt("max-actions"),
                c.getDuration("max-for"),
                c.getDuration("max-window"),
                c.getInt("window-max-samples"),
                c.getInt("max-keys-tracked"),
                (int) c.getMemorySize("max-alarm-details").toBytes(),
                c.getInt("flapping.changes"),
                c.getDuration("flapping.window"),
                c.getInt("snapshot-every"),
                c.getInt("event-tags"),
                c.getDuration("facts-ttl"));
    }

    public RulesSettings withFlapping(int changes, Duration window) {
        return new RulesSettings(maxRulesPerTenant, versionsKept, maxActions, maxFor, maxWindow, windowMaxSamples,
                maxKeysTracked, maxAlarmDetailsBytes, changes, window, snapshotEvery, eventTags, factsTtl);
    }

    public RulesSettings withLimits(int rulesPerTenant, int versions, int windowSamples) {
        return new RulesSettings(rulesPerTenant, versions, maxActions, maxFor, maxWindow, windowSamples,
                maxKeysTracked, maxAlarmDetailsBytes, flappingChanges, flappingWindow, snapshotEvery, eventTags, factsTtl);
    }
}
