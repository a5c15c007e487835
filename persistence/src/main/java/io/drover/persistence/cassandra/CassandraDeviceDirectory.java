package io.drover.persistence.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.drover.persistence.Cursors;
import io.drover.persistence.DeviceDirectory;
import io.drover.persistence.DeviceListing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.zip.CRC32;

/**
 * Devices by tenant over {@code buckets} partitions per tenant. Pages walk the buckets in order and
 * each bucket by device id; filters are applied while reading, with a bounded scan per page (a page
 * may come back short, with a cursor, when few rows match).
 */
public final class CassandraDeviceDirectory implements DeviceDirectory {

    private static final int SCAN_FACTOR = 10;

    private final CqlSession session;
    private final int buckets;
    private final PreparedStatement upsert;
    private final PreparedStatement page;
    private final PreparedStatement metadata;
    private final PreparedStatement lifecycle;
    private final PreparedStatement touch;
    private final PreparedStatement online;
    private final PreparedStatement counted;

    public CassandraDeviceDirectory(CqlSession session, String keyspace, int buckets) {
        this.session = session;
        this.buckets = buckets;
        upsert = session.prepare("INSERT INTO " + keyspace + ".devices_by_tenant (tenant_id, bucket, device_id, name, type, "
                + "labels, lifecycle, created_at, updated_at, online) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        metadata = session.prepare("UPDATE " + keyspace + ".devices_by_tenant SET name = ?, type = ?, labels = ?, "
                + "updated_at = ? WHERE tenant_id = ? AND bucket = ? AND device_id = ?");
        lifecycle = session.prepare("UPDATE " + keyspace + ".devices_by_tenant SET lifecycle = ?, updated_at = ? "
                + "WHERE tenant_id = ? AND bucket = ? AND device_id = ?");
        touch = session.prepare("UPDATE " + keyspace + ".devices_by_tenant SET updated_at = ? "
                + "WHERE tenant_id = ? AND bucket = ? AND device_id = ?");
        online = session.prepare("UPDATE " + keyspace + ".devices_by_tenant SET online = ? "
                + "WHERE tenant_id = ? AND bucket = ? AND device_id = ?");
        counted = session.prepare("SELECT lifecycle, online FROM " + keyspace
                + ".devices_by_tenant WHERE tenant_id = ? AND bucket = ? LIMIT ?");
        page = session.prepare("SELECT device_id, name, type, labels, lifecycle, created_at, updated_at, online FROM " + keyspace
                + ".devices_by_tenant WHERE tenant_id = ? AND bucket = ? AND device_id > ? LIMIT ?");
    }

    /** Fixed once data exists: CRC32 of the UTF-8 id, modulo the bucket count. */
    public static int bucketOf(String deviceId, int buckets) {
        CRC32 crc = new CRC32();
        crc.update(deviceId.getBytes(StandardCharsets.UTF_8));
        return (int) Math.floorMod(crc.getValue(), (long) buckets);
    }

    @Override
    public CompletionStage<Void> upsert(DeviceListing d) {
        return session.executeAsync(upsert.bind(d.tenantId(), bucketOf(d.deviceId(), buckets), d.deviceId(), d.name(),
                d.type(), Set.copyOf(d.labels()), d.lifecycle(), d.createdAt(), d.updatedAt(), d.online()))
                .thenApply(rs -> null);
    }

    @Override
    public CompletionStage<Void> updateMetadata(String tenantId, String deviceId, String name, String type,
            List<String> labels, java.time.Instant updatedAt) {
        return session.executeAsync(metadata.bind(name, type, Set.copyOf(labels), updatedAt, tenantId,
                bucketOf(deviceId, buckets), deviceId)).thenApply(rs -> null);
    }

    @Override
    public CompletionStage<Void> updateLifecycle(String tenantId, String deviceId, String state, java.time.Instant updatedAt) {
        return session.executeAsync(lifecycle.bind(state, updatedAt, tenantId, bucketOf(deviceId, buckets), deviceId))
                .thenApply(rs -> null);
    }

    @Override
    public CompletionStage<Void> touch(String tenantId, String deviceId, java.time.Instant updatedAt) {
        return session.executeAsync(touch.bind(updatedAt, tenantId, bucketOf(deviceId, buckets), deviceId))
                .thenApply(rs -> null);
    }

    @Override
    public CompletionStage<Page> list(Query q) {
        Cursors start;
        try {
            start = q.cursor().map(Cursors::decode).orElse(new Cursors(0, ""));
            if (start.bucket() < 0 || start.bucket() >= buckets) {
                throw new IllegalArgumentException("invalid cursor");
            }
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        return fetch(q, start.bucket(), start.afterDeviceId(), new ArrayList<>(), q.limit() * SCAN_FACTOR);
    }

    private CompletionStage<Page> fetch(Query q, int bucket, String after, List<DeviceListing> acc, int budget) {
        int want = Math.min(q.limit() - acc.size() + 1, Math.max(budget, 1));
        return session.executeAsync(page.bind(q.tenantId(), bucket, after, want)).thenCompose(rs -> {
            int read = 0;
            String last = after;
            for (Row r : rs.currentPage()) {
                read++;
                last = r.getString("device_id");
                DeviceListing d = new DeviceListing(q.tenantId(), last, r.getString("name"), r.getString("type"),
                        List.copyOf(new TreeSet<>(r.getSet("labels", String.class))), r.getString("lifecycle"),
                        r.getInstant("created_at"), r.getInstant("updated_at"), r.getBoolean("online"));
                if (q.matches(d)) {
                    if (acc.size() == q.limit()) {
                        // one more than asked exists: the page ends before it
                        DeviceListing lastKept = acc.get(acc.size() - 1);
                        return done(acc, new Cursors(bucketOf(lastKept.deviceId(), buckets), lastKept.deviceId()));
                    }
                    acc.add(d);
                }
            }
            int left = budget - read;
            boolean bucketExhausted = read < want;
            if (!bucketExhausted && left > 0) {
                return fetch(q, bucket, last, acc, left);
            }
            if (bucketExhausted && bucket + 1 < buckets && left > 0) {
                return fetch(q, bucket + 1, "", acc, left);
            }
            if (bucketExhausted && bucket + 1 >= buckets) {
                return done(acc, null);
            }
            // scan budget used up: hand back what matched so far and where to continue
            return done(acc, bucketExhausted ? new Cursors(bucket + 1, "") : new Cursors(bucket, last));
        });
    }

    private static CompletionStage<Page> done(List<DeviceListing> acc, Cursors next) {
        return CompletableFuture.completedFuture(
                new Page(List.copyOf(acc), Optional.ofNullable(next).map(Cursors::encode)));
    }

    @Override
    public CompletionStage<Void> updateOnline(String tenantId, String deviceId, boolean isOnline) {
        return session.executeAsync(online.bind(isOnline, tenantId, bucketOf(deviceId, buckets), deviceId))
                .thenApply(rs -> null);
    }

    /**
     * Reads two small columns of every row, bucket after bucket, paged by the driver, and stops after
     * {@code maxRows}: one call costs O(devices) rows read, which is why the route caches the answer.
     */
    @Override
    public CompletionStage<Summary> summary(String tenantId, int maxRows) {
        return count(tenantId, 0, maxRows, new long[2], new java.util.TreeMap<>());
    }

    private CompletionStage<Summary> count(String tenantId, int bucket, int left, long[] totals,
            java.util.Map<String, Long> byLifecycle) {
        if (bucket >= buckets) {
            return CompletableFuture.completedFuture(new Summary(totals[0], byLifecycle, totals[1], true));
        }
        if (left <= 0) {
            return CompletableFuture.completedFuture(new Summary(totals[0], byLifecycle, totals[1], false));
        }
        return session.executeAsync(counted.bind(tenantId, bucket, left).setPageSize(5000))
                .thenCompose(rs -> drain(rs, totals, byLifecycle))
                .thenCompose(read -> count(tenantId, bucket + 1, left - read, totals, byLifecycle));
    }

    private static CompletionStage<Integer> drain(com.datastax.oss.driver.api.core.cql.AsyncResultSet rs, long[] totals,
            java.util.Map<String, Long> byLifecycle) {
        int read = 0;
        for (Row r : rs.currentPage()) {
            read++;
            totals[0]++;
            totals[1] += r.getBoolean("online") ? 1 : 0;
            String l = r.getString("lifecycle");
            byLifecycle.merge(l == null ? "unknown" : l, 1L, Long::sum);
        }
        int here = read;
        return rs.hasMorePages() ? rs.fetchNextPage().thenCompose(next -> drain(next, totals, byLifecycle))
                .thenApply(more -> here + more) : CompletableFuture.completedFuture(here);
    }
}
