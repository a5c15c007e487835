package io.drover.persistence.cassandra;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.drover.persistence.IdempotencyStore;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * {@code idempotency_keys} (V007). {@link #begin} is a lightweight transaction (INSERT … IF NOT EXISTS at SERIAL),
 * so two nodes never both run the request of one key; the answer is written at QUORUM over it.
 */
public final class CassandraIdempotencyStore implements IdempotencyStore {

    private final CqlSession session;
    private final PreparedStatement begin;
    private final PreparedStatement complete;
    private final PreparedStatement release;

    public CassandraIdempotencyStore(CqlSession session, String keyspace) {
        this.session = session;
        begin = session.prepare("INSERT INTO " + keyspace + ".idempotency_keys (id, body_hash, state) VALUES (?, ?, "
                + "'pending') IF NOT EXISTS USING TTL ?");
        complete = session.prepare("UPDATE " + keyspace + ".idempotency_keys USING TTL ? SET body_hash = ?, "
                + "state = 'done', status = ?, response = ? WHERE id = ?");
        release = session.prepare("DELETE FROM " + keyspace + ".idempotency_keys WHERE id = ?");
    }

    @Override
    public CompletionStage<Optional<Entry>> begin(String id, String bodyHash, Duration pendingFor) {
        return session.executeAsync(begin.bind(id, bodyHash, (int) pendingFor.toSeconds())
                .setSerialConsistencyLevel(ConsistencyLevel.SERIAL)).thenApply(rs -> {
                    if (rs.wasApplied()) {
                        return Optional.empty();
                    }
                    Row r = rs.one();
                    ByteBuffer b = r.getByteBuffer("response");
                    byte[] bytes = null;
                    if (b != null) {
                        bytes = new byte[b.remaining()];
                        b.duplicate().get(bytes);
                    }
                    return Optional.of(new Entry(r.getString("body_hash"), !"done".equals(r.getString("state")),
                            r.isNull("status") ? 0 : r.getInt("status"), bytes));
                });
    }

    @Override
    public CompletionStage<Void> complete(String id, String bodyHash, int status, byte[] response, Duration keep) {
        return session.executeAsync(complete.bind((int) keep.toSeconds(), bodyHash, status, ByteBuffer.wrap(response), id)
                .setConsistencyLevel(ConsistencyLevel.QUORUM)).thenApply(rs -> null);
    }

    @Override
    public CompletionStage<Void> release(String id) {
        return session.executeAsync(release.bind(id).setConsistencyLevel(ConsistencyLevel.QUORUM)).thenApply(rs -> null);
    }
}
