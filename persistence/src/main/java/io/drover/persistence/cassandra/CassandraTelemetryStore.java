package io.drover.persistence.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.drover.persistence.TelemetrySample;
import io.drover.persistence.TelemetryStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@link TelemetryStore} on {@code telemetry_raw}: a write is grouped by partition into unlogged
 * batches (one partition per batch, so a batch is one mutation on one replica set) and completes
 * when every batch is acknowledged.
 */
public final class CassandraTelemetryStore implements TelemetryStore {

    private static final long DAY_MS = 86_400_000L;
    private static final int MAX_BATCH = 100;

    private final CqlSession session;
    private final PreparedStatement insert;
    private final PreparedStatement select;

    public CassandraTelemetryStore(CqlSession session, String keyspace) {
        this.session = session;
        insert = session.prepare("INSERT INTO " + keyspace + ".telemetry_raw (tenant_id, device_id, day, key, ts, num, str, bool, "
                + "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        select = session.prepare("SELECT key, ts, num, str, bool, received_at FROM " + keyspace + ".telemetry_raw "
                + "WHERE tenant_id = ? AND device_id = ? AND day = ? AND key = ? AND ts >= ? AND ts < ? LIMIT ?");
    }

    /** UTC day number of a sample; fixed once data exists. */
    public static int dayOf(Instant ts) {
        return (int) Math.floorDiv(ts.toEpochMilli(), DAY_MS);
    }

    @Override
    public CompletionStage<Void> write(List<TelemetrySample> samples) {
        Map<String, List<TelemetrySample>> byPartition = new LinkedHashMap<>();
        for (TelemetrySample s : samples) {
            byPartition.computeIfAbsent(s.tenantId() + '\u0000' + s.deviceId() + '\u0000' + dayOf(s.ts()),
                    k -> new ArrayList<>()).add(s);
        }
        List<CompletableFuture<AsyncResultSet>> writes = new ArrayList<>();
        for (List<TelemetrySample> partition : byPartition.values()) {
            for (int i = 0; i < partition.size(); i += MAX_BATCH) {
                List<TelemetrySample> chunk = partition.subList(i, Math.min(partition.size(), i + MAX_BATCH));
                writes.add(session.executeAsync(chunk.size() == 1 ? bind(chunk.get(0)) : batch(chunk)).toCompletableFuture());
            }
        }
        return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
    }

    private BatchStatement batch(List<TelemetrySample> chunk) {
        BatchStatementBuilder b = BatchStatement.builder(BatchType.UNLOGGED);
        chunk.forEach(s -> b.addStatement(bind(s)));
        return b.build();
    }

    private com.datastax.oss.driver.api.core.cql.BoundStatement bind(TelemetrySample s) {
        return insert.bind(s.tenantId(), s.deviceId(), dayOf(s.ts()), s.key(), s.ts(), s.number(), s.text(), s.bool(),
                s.receivedAt());
    }

    @Override
    public CompletionStage<List<TelemetrySample>> read(String tenantId, String deviceId, String key, Instant from,
            Instant to, int limit) {
        List<TelemetrySample> out = new ArrayList<>();
        return readDays(tenantId, deviceId, key, from, to, limit, dayOf(to.minusMillis(1)), out);
    }

    private CompletionStage<List<TelemetrySample>> readDays(String tenantId, String deviceId, String key, Instant from,
            Instant to, int limit, int day, List<TelemetrySample> out) {
        if (out.size() >= limit || day < dayOf(from)) {
            return CompletableFuture.completedFuture(out);
        }
        return session.executeAsync(select.bind(tenantId, deviceId, day, key, from, to, limit - out.size()))
                .thenCompose(rs -> {
                    for (Row r : rs.currentPage()) {
                        out.add(new TelemetrySample(tenantId, deviceId, r.getString("key"), r.getInstant("ts"),
                                r.isNull("num") ? null : r.getDouble("num"), r.getString("str"),
                                r.isNull("bool") ? null : r.getBoolean("bool"), r.getInstant("received_at")));
                    }
                    return readDays(tenantId, deviceId, key, from, to, limit, day - 1, out);
                });
    }
}
