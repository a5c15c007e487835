package io.drover.persistence.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.drover.persistence.AccessStore;
import io.drover.persistence.ApiKey;
import io.drover.persistence.Tenant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** {@link AccessStore} on the tables of V002; statements are prepared once. */
public final class CassandraAccessStore implements AccessStore {

    private final CqlSession session;
    private final PreparedStatement insertTenant;
    private final PreparedStatement selectTenant;
    private final PreparedStatement insertKeyByHash;
    private final PreparedStatement insertKeyByTenant;
    private final PreparedStatement selectKeyByHash;
    private final PreparedStatement selectKeysOfTenant;
    private final PreparedStatement selectKeyOfTenant;
    private final PreparedStatement deleteKeyByHash;
    private final PreparedStatement deleteKeyByTenant;
    private final PreparedStatement selectRetention;
    private final PreparedStatement updateRetention;

    public CassandraAccessStore(CqlSession session, String keyspace) {
        this.session = session;
        insertTenant = session.prepare("INSERT INTO " + keyspace
                + ".tenants (tenant_id, name, created_at) VALUES (?, ?, ?) IF NOT EXISTS");
        selectTenant = session.prepare("SELECT tenant_id, name, created_at FROM " + keyspace + ".tenants WHERE tenant_id = ?");
        String cols = "key_id, tenant_id, role, name, created_at, expires_at";
        insertKeyByHash = session.prepare("INSERT INTO " + keyspace + ".api_keys_by_hash (key_hash, " + cols
                + ") VALUES (?, ?, ?, ?, ?, ?, ?)");
        insertKeyByTenant = session.prepare("INSERT INTO " + keyspace + ".api_keys_by_tenant (key_hash, " + cols
                + ") VALUES (?, ?, ?, ?, ?, ?, ?)");
        selectKeyByHash = session.prepare("SELECT key_hash, " + cols + " FROM " + keyspace + ".api_keys_by_hash WHERE key_hash = ?");
        selectKeysOfTenant = session.prepare("SELECT key_hash, " + cols + " FROM " + keyspace
                + ".api_keys_by_tenant WHERE tenant_id = ?");
        selectKeyOfTenant = session.prepare("SELECT key_hash, " + cols + " FROM " + keyspace
                + ".api_keys_by_tenant WHERE tenant_id = ? AND key_id = ?");
        deleteKeyByHash = session.prepare("DELETE FROM " + keyspace + ".api_keys_by_hash WHERE key_hash = ?");
        selectRetention = session.prepare("SELECT raw_ttl_days, rollup_1m_ttl_days, rollup_1h_ttl_days FROM " + keyspace
                + ".tenants WHERE tenant_id = ?");
        updateRetention = session.prepare("UPDATE " + keyspace
                + ".tenants SET raw_ttl_days = ?, rollup_1m_ttl_days = ?, rollup_1h_ttl_days = ? WHERE tenant_id = ?");
        deleteKeyByTenant = session.prepare("DELETE FROM " + keyspace + ".api_keys_by_tenant WHERE tenant_id = ? AND key_id = ?");
    }

    @Override
    public CompletionStage<Boolean> createTenant(Tenant t) {
        return session.executeAsync(insertTenant.bind(t.tenantId(), t.name(), t.createdAt()))
                .thenApply(AsyncResultSet::wasApplied);
    }

    @Override
    public CompletionStage<io.drover.persistence.Retention.Overrides> retention(String tenantId) {
        return session.executeAsync(selectRetention.bind(tenantId)).thenApply(rs -> {
            Row r = rs.one();
            if (r == null) {
                return io.drover.persistence.Retention.Overrides.NONE;
            }
            return new io.drover.persistence.Retention.Overrides(r.get(0, Integer.class), r.get(1, Integer.class),
                    r.get(2, Integer.class));
        });
    }

    @Override
    public CompletionStage<Void> setRetention(String tenantId, io.drover.persistence.Retention.Overrides o) {
        return session.executeAsync(updateRetention.bind(o.rawDays(), o.rollup1mDays(), o.rollup1hDays(), tenantId))
                .thenApply(rs -> null);
    }

    @Override
    public CompletionStage<Optional<Tenant>> tenant(String tenantId) {
        return session.executeAsync(selectTenant.bind(tenantId)).thenApply(rs -> Optional.ofNullable(rs.one())
                .map(r -> new Tenant(r.getString("tenant_id"), r.getString("name"), r.getInstant("created_at"))));
    }

    @Override
    public CompletionStage<Void> createKey(ApiKey k) {
        // Logged batch: the two tables never disagree about a key that exists.
        Object[] values = {k.keyHash(), k.keyId(), k.tenantId(), k.role().wire(), k.name(), k.createdAt(),
                k.expiresAt().orElse(null)};
        BatchStatement batch = BatchStatement.newInstance(DefaultBatchType.LOGGED,
                insertKeyByHash.bind(values), insertKeyByTenant.bind(values));
        return session.executeAsync(batch).thenApply(rs -> null);
    }

    @Override
    public CompletionStage<Optional<ApiKey>> keyByHash(String keyHash) {
        return session.executeAsync(selectKeyByHash.bind(keyHash))
                .thenApply(rs -> Optional.ofNullable(rs.one()).map(CassandraAccessStore::toKey));
    }

    @Override
    public CompletionStage<List<ApiKey>> keysOf(String tenantId) {
        return session.executeAsync(selectKeysOfTenant.bind(tenantId)).thenCompose(rs -> collect(rs, new ArrayList<>()));
    }

    private static CompletionStage<List<ApiKey>> collect(AsyncResultSet rs, List<ApiKey> acc) {
        for (Row r : rs.currentPage()) {
            acc.add(toKey(r));
        }
        return rs.hasMorePages() ? rs.fetchNextPage().thenCompose(next -> collect(next, acc))
                : CompletableFuture.completedFuture(acc);
    }

    @Override
    public CompletionStage<Boolean> deleteKey(String tenantId, String keyId) {
        return session.executeAsync(selectKeyOfTenant.bind(tenantId, keyId)).thenCompose(rs -> {
            Row r = rs.one();
            if (r == null) {
                return CompletableFuture.completedFuture(false);
            }
            BatchStatement batch = BatchStatement.newInstance(DefaultBatchType.LOGGED,
                    deleteKeyByHash.bind(r.getString("key_hash")), deleteKeyByTenant.bind(tenantId, keyId));
            return session.executeAsync(batch).thenApply(x -> true);
        });
    }

    private static ApiKey toKey(Row r) {
        return new ApiKey(r.getString("key_id"), r.getString("tenant_id"),
                ApiKey.Role.fromWire(r.getString("role")).orElseThrow(), r.getString("name"),
                r.getInstant("created_at"), Optional.ofNullable(r.getInstant("expires_at")), r.getString("key_hash"));
    }
}
