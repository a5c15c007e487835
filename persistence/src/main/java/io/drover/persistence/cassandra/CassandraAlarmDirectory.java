package io.drover.persistence.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.drover.persistence.AlarmDirectory;
import io.drover.persistence.Cursors;
import io.drover.rules.Alarm;
import io.drover.rules.Severity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code alarms_by_tenant} (partition per tenant and status) and {@code alarm_by_id}. A page reads the active
 * partition, then the cleared one, in alarm id order; filters apply while reading with a bounded scan per page (a
 * page may come back short, with a cursor, when few rows match).
 */
public final class CassandraAlarmDirectory implements AlarmDirectory {

    private static final int SCAN_FACTOR = 10;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String COLUMNS = "alarm_id, type, device_id, instance, severity, acknowledged, occurrences, "
            + "first_seen_at, last_seen_at, cleared_at, cleared_by, acked_at, acked_by, rule_id, rule_version, details, "
            + "flapping, flaps";
    private static final String MARKS = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";
    private static final List<Alarm.Status> ORDER = List.of(Alarm.Status.ACTIVE, Alarm.Status.CLEARED);

    private final CqlSession session;
    private final int clearedTtlSeconds;
    private final PreparedStatement insertListed;
    private final PreparedStatement insertListedTtl;
    private final PreparedStatement deleteListed;
    private final PreparedStatement insertById;
    private final PreparedStatement insertByIdTtl;
    private final PreparedStatement byId;
    private final PreparedStatement page;

    public CassandraAlarmDirectory(CqlSession session, String keyspace, Duration clearedTtl) {
        this.session = session;
        this.clearedTtlSeconds = (int) Math.max(1, clearedTtl.toSeconds());
        String listed = "INSERT INTO " + keyspace + ".alarms_by_tenant (tenant_id, status, " + COLUMNS + ") VALUES (?, ?, "
                + MARKS + ")";
        insertListed = session.prepare(listed);
        insertListedTtl = session.prepare(listed + " USING TTL ?");
        deleteListed = session.prepare("DELETE FROM " + keyspace
                + ".alarms_by_tenant WHERE tenant_id = ? AND status = ? AND alarm_id = ?");
        String one = "INSERT INTO " + keyspace + ".alarm_by_id (tenant_id, status, " + COLUMNS + ") VALUES (?, ?, " + MARKS
                + ")";
        insertById = session.prepare(one);
        insertByIdTtl = session.prepare(one + " USING TTL ?");
        byId = session.prepare("SELECT status, " + COLUMNS + " FROM " + keyspace
                + ".alarm_by_id WHERE tenant_id = ? AND alarm_id = ?");
        page = session.prepare("SELECT " + COLUMNS + " FROM " + keyspace
                + ".alarms_by_tenant WHERE tenant_id = ? AND status = ? AND alarm_id > ? LIMIT ?");
    }

    private static String wire(Alarm.Status s) {
        return s.name().toLowerCase();
    }

    private static Object[] values(Alarm.AlarmView a, Alarm.Status status) {
        return new Object[] {a.tenantId(), wire(status), a.id(), a.type(), a.deviceId(), a.instance(),
            a.severity() == null ? null : a.severity().wire(), a.acknowledged(), a.occurrences(), a.firstSeenAt(),
            a.lastSeenAt(), a.clearedAt(), a.clearedBy(), a.ackedAt(), a.ackedBy(), a.ruleId(), a.ruleVersion(),
            a.details() == null ? null : a.details().toString(), a.flapping(), a.flaps()};
    }

    private static Object[] withTtl(Object[] v, int ttl) {
        Object[] out = java.util.Arrays.copyOf(v, v.length + 1);
        out[v.length] = ttl;
        return out;
    }

    @Override
    public CompletionStage<Void> upsert(Alarm.AlarmView a) {
        boolean active = a.status() == Alarm.Status.ACTIVE;
        Object[] v = values(a, a.status());
        List<BoundStatement> all = new ArrayList<>();
        all.add(active ? insertListed.bind(v) : insertListedTtl.bind(withTtl(v, clearedTtlSeconds)));
        all.add(deleteListed.bind(a.tenantId(), wire(active ? Alarm.Status.CLEARED : Alarm.Status.ACTIVE), a.id()));
        all.add(active ? insertById.bind(v) : insertByIdTtl.bind(withTtl(v, clearedTtlSeconds)));
        // Logged: the alarm leaves one partition and enters the other together (three small rows).
        return session.executeAsync(BatchStatement.newInstance(DefaultBatchType.LOGGED).addAll(all))
                .thenApply(rs -> null);
    }

    @Override
    public CompletionStage<Optional<Alarm.AlarmView>> get(String tenantId, String alarmId) {
        return session.executeAsync(byId.bind(tenantId, alarmId)).thenApply(rs -> {
            Row r = rs.one();
            return r == null ? Optional.empty()
                    : Optional.of(view(tenantId, Alarm.Status.valueOf(r.getString("status").toUpperCase()), r));
        });
    }

    private static Alarm.AlarmView view(String tenantId, Alarm.Status status, Row r) {
        ObjectNode details = null;
        String d = r.getString("details");
        if (d != null) {
            try {
                details = (ObjectNode) JSON.readTree(d);
            } catch (Exception e) {
                details = null;
            }
        }
        Integer version = r.isNull("rule_version") ? null : r.getInt("rule_version");
        return new Alarm.AlarmView(r.getString("alarm_id"), tenantId, r.getString("type"), r.getString("device_id"),
                r.getLong("instance"), Severity.parse(r.getString("severity")), status, r.getBoolean("acknowledged"),
                r.getLong("occurrences"), r.getInstant("first_seen_at"), r.getInstant("last_seen_at"),
                r.getInstant("cleared_at"), r.getString("cleared_by"), r.getInstant("acked_at"), r.getString("acked_by"),
                r.getString("rule_id"), version, details, r.getBoolean("flapping"), r.getLong("flaps"));
    }

    @Override
    public CompletionStage<Page> list(Query q) {
        List<Alarm.Status> statuses = q.status() == null ? ORDER : List.of(q.status());
        Cursors start;
        try {
            start = q.cursor().map(Cursors::decode).orElse(new Cursors(0, ""));
            if (start.bucket() < 0 || start.bucket() >= statuses.size()) {
                throw new IllegalArgumentException("invalid cursor");
            }
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        return fetch(q, statuses, start.bucket(), start.afterDeviceId(), new ArrayList<>(), q.limit() * SCAN_FACTOR);
    }

    private CompletionStage<Page> fetch(Query q, List<Alarm.Status> statuses, int index, String after,
            List<Alarm.AlarmView> acc, int budget) {
        int want = Math.min(q.limit() - acc.size() + 1, Math.max(budget, 1));
        Alarm.Status status = statuses.get(index);
        return session.executeAsync(page.bind(q.tenantId(), wire(status), after, want)).thenCompose(rs -> {
            int read = 0;
            String last = after;
            for (Row r : rs.currentPage()) {
                read++;
                last = r.getString("alarm_id");
                Alarm.AlarmView a = view(q.tenantId(), status, r);
                if (matches(q, a)) {
                    if (acc.size() == q.limit()) {
                        Alarm.AlarmView kept = acc.get(acc.size() - 1);
                        int keptIndex = statuses.indexOf(kept.status());
                        return done(acc, new Cursors(keptIndex, kept.id()));
                    }
                    acc.add(a);
                }
            }
            int left = budget - read;
            boolean exhausted = read < want;
            if (!exhausted && left > 0) {
                return fetch(q, statuses, index, last, acc, left);
            }
            if (exhausted && index + 1 < statuses.size() && left > 0) {
                return fetch(q, statuses, index + 1, "", acc, left);
            }
            if (exhausted && index + 1 >= statuses.size()) {
                return done(acc, null);
            }
            return done(acc, exhausted ? new Cursors(index + 1, "") : new Cursors(index, last));
        });
    }

    private static CompletionStage<Page> done(List<Alarm.AlarmView> acc, Cursors next) {
        return CompletableFuture.completedFuture(new Page(List.copyOf(acc), Optional.ofNullable(next).map(Cursors::encode)));
    }

    private static boolean matches(Query q, Alarm.AlarmView a) {
        return q.severity().map(s -> a.severity() != null && s.equals(a.severity().wire())).orElse(true)
                && q.deviceId().map(d -> d.equals(a.deviceId())).orElse(true)
                && q.type().map(t -> t.equals(a.type())).orElse(true);
    }
}
