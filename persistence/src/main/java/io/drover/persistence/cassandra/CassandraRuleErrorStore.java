package io.drover.persistence.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.drover.persistence.RuleErrorStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** {@code rule_errors}: newest first per (tenant, rule), the table's TTL bounds it (V006). */
public final class CassandraRuleErrorStore implements RuleErrorStore {

    private final CqlSession session;
    private final PreparedStatement insert;
    private final PreparedStatement recent;

    public CassandraRuleErrorStore(CqlSession session, String keyspace) {
        this.session = session;
        insert = session.prepare("INSERT INTO " + keyspace + ".rule_errors (tenant_id, rule_id, at, error_id, rule_version, "
                + "device_id, action, input, failures, dead_letter) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        recent = session.prepare("SELECT at, error_id, rule_version, device_id, action, input, failures, dead_letter FROM "
                + keyspace + ".rule_errors WHERE tenant_id = ? AND rule_id = ? AND at < ? LIMIT ?");
    }

    @Override
    public CompletionStage<Void> record(RuleError e) {
        return session.executeAsync(insert.bind(e.tenantId(), e.ruleId(), e.at(), e.errorId(), e.ruleVersion(),
                e.deviceId(), e.action(), e.input(), e.failures(), e.deadLetter())).thenApply(rs -> null);
    }

    @Override
    public CompletionStage<List<RuleError>> recent(String tenantId, String ruleId, Instant before, int limit) {
        Instant until = before != null ? before : Instant.now().plusSeconds(60);
        return session.executeAsync(recent.bind(tenantId, ruleId, until, limit)).thenApply(rs -> {
            List<RuleError> out = new ArrayList<>();
            for (Row r : rs.currentPage()) {
                out.add(new RuleError(tenantId, ruleId, r.getInt("rule_version"), r.getString("error_id"),
                        r.getInstant("at"), r.getString("device_id"), r.getString("action"), r.getString("input"),
                        r.getList("failures", String.class), r.getString("dead_letter")));
            }
            return out;
        });
    }
}
