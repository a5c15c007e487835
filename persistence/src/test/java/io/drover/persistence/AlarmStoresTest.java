package io.drover.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import io.drover.persistence.cassandra.CassandraAlarmDirectory;
import io.drover.persistence.cassandra.CassandraRuleErrorStore;
import io.drover.persistence.testing.CassandraExtension;
import io.drover.persistence.testing.TestStores;
import io.drover.rules.Alarm;
import io.drover.rules.Severity;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The alarm read side and the rule error store on the real Cassandra (V006). */
@ExtendWith(CassandraExtension.class)
class AlarmStoresTest {

    private static CassandraAlarmDirectory alarms;
    private static CassandraRuleErrorStore errors;

    @BeforeAll
    static void connect() throws Exception {
        CqlSession session = TestStores.session();
        alarms = new CassandraAlarmDirectory(session, CassandraExtension.TEST_KEYSPACE, Duration.ofDays(1));
        errors = new CassandraRuleErrorStore(session, CassandraExtension.TEST_KEYSPACE);
    }

    private static <T> T await(java.util.concurrent.CompletionStage<T> s) throws Exception {
        return s.toCompletableFuture().get();
    }

    private static Alarm.AlarmView alarm(String tenant, String device, String type, Alarm.Status status, Severity sev) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        return new Alarm.AlarmView(device + ":" + type + ":1", tenant, type, device, 1, sev, status, false, 1, now, now,
                status == Alarm.Status.CLEARED ? now : null, status == Alarm.Status.CLEARED ? "rule:r" : null, null, null,
                "r", 1, null, false, 0);
    }

    private static List<String> all(AlarmDirectory.Query first) throws Exception {
        List<String> ids = new ArrayList<>();
        Optional<String> cursor = Optional.empty();
        do {
            AlarmDirectory.Query q = new AlarmDirectory.Query(first.tenantId(), first.status(), first.severity(),
                    first.deviceId(), first.type(), cursor, first.limit());
            AlarmDirectory.Page p = await(alarms.list(q));
            assertTrue(p.items().size() <= q.limit());
            p.items().forEach(a -> ids.add(a.id()));
            cursor = p.nextCursor();
        } while (cursor.isPresent());
        return ids;
    }

    @Test
    void aStatusChangeMovesTheAlarmAndPagesWalkActiveThenCleared() throws Exception {
        String tenant = "al-" + UUID.randomUUID().toString().substring(0, 8);
        for (int i = 0; i < 7; i++) {
            await(alarms.upsert(alarm(tenant, "d" + i, "hot", Alarm.Status.ACTIVE, i % 2 == 0 ? Severity.MAJOR : Severity.MINOR)));
        }
        for (int i = 0; i < 3; i++) {
            await(alarms.upsert(alarm(tenant, "d" + i, "hot", Alarm.Status.CLEARED, Severity.MAJOR))); // d0..d2 clear
        }
        AlarmDirectory.Query every = new AlarmDirectory.Query(tenant, null, Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty(), 2);
        assertEquals(List.of("d3:hot:1", "d4:hot:1", "d5:hot:1", "d6:hot:1", "d0:hot:1", "d1:hot:1", "d2:hot:1"),
                all(every), "active first, then cleared, each once, in pages of 2");
        assertEquals(List.of("d0:hot:1", "d1:hot:1", "d2:hot:1"), all(new AlarmDirectory.Query(tenant, Alarm.Status.CLEARED,
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), 10)));
        assertEquals(List.of("d4:hot:1", "d6:hot:1"), all(new AlarmDirectory.Query(tenant, Alarm.Status.ACTIVE,
                Optional.of("major"), Optional.empty(), Optional.empty(), Optional.empty(), 1)), "filtered while reading");
        assertEquals(List.of("d5:hot:1"), all(new AlarmDirectory.Query(tenant, null, Optional.empty(), Optional.of("d5"),
                Optional.of("hot"), Optional.empty(), 5)));
        Alarm.AlarmView d1 = await(alarms.get(tenant, "d1:hot:1")).orElseThrow();
        assertEquals(Alarm.Status.CLEARED, d1.status());
        assertEquals("rule:r", d1.clearedBy());
        assertEquals(Optional.empty(), await(alarms.get("other-tenant", "d1:hot:1")));
        ExecutionException bad = assertThrows(ExecutionException.class, () -> await(alarms.list(new AlarmDirectory.Query(
                tenant, null, Optional.empty(), Optional.empty(), Optional.empty(), Optional.of("garbage!"), 5))));
        assertTrue(bad.getCause() instanceof IllegalArgumentException);
    }

    @Test
    void ruleErrorsComeNewestFirstPerRule() throws Exception {
        String tenant = "re-" + UUID.randomUUID().toString().substring(0, 8);
        Instant t0 = Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(60);
        for (int i = 0; i < 5; i++) {
            await(errors.record(new RuleErrorStore.RuleError(tenant, "r1", 2, "e" + i, t0.plusSeconds(i), "d1", "webhook",
                    "{\"t\":" + i + "}", List.of("HTTP 500"), i == 4 ? "{\"body\":1}" : null)));
        }
        await(errors.record(new RuleErrorStore.RuleError(tenant, "r2", 1, "x", t0, "d1", "command", "{}", List.of("f"),
                null)));
        List<RuleErrorStore.RuleError> newest = await(errors.recent(tenant, "r1", null, 3));
        assertEquals(List.of("e4", "e3", "e2"), newest.stream().map(RuleErrorStore.RuleError::errorId).toList());
        assertEquals("{\"body\":1}", newest.get(0).deadLetter());
        assertEquals(List.of("e1", "e0"), await(errors.recent(tenant, "r1", t0.plusSeconds(2), 10)).stream()
                .map(RuleErrorStore.RuleError::errorId).toList(), "before a time: the next page");
    }
}
