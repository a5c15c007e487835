package io.drover.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import io.drover.persistence.cassandra.CassandraAccessStore;
import io.drover.persistence.cassandra.CassandraDeviceDirectory;
import io.drover.persistence.testing.CassandraExtension;
import io.drover.persistence.testing.TestStores;
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

/** The Cassandra stores against the real Cassandra, on the shared test keyspace. */
@ExtendWith(CassandraExtension.class)
class CassandraStoresTest {

    private static CqlSession session;
    private static CassandraAccessStore access;
    private static CassandraDeviceDirectory directory;

    @BeforeAll
    static void connect() throws Exception {
        session = TestStores.session();
        access = new CassandraAccessStore(session, CassandraExtension.TEST_KEYSPACE);
        directory = new CassandraDeviceDirectory(session, CassandraExtension.TEST_KEYSPACE, 4);
    }

    private static <T> T await(java.util.concurrent.CompletionStage<T> s) throws Exception {
        return s.toCompletableFuture().get();
    }

    private static String uniq(String prefix) {
        return prefix + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void tenantsAreCreatedOnce() throws Exception {
        String id = uniq("t");
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        assertTrue(await(access.createTenant(new Tenant(id, "A", now))));
        assertFalse(await(access.createTenant(new Tenant(id, "B", now))));
        assertEquals(Optional.of(new Tenant(id, "A", now)), await(access.tenant(id)));
    }

    @Test
    void keysAreFoundByHashListedAndDeletedFromBothTables() throws Exception {
        String tenant = uniq("t");
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        ApiKey k = new ApiKey("k1", tenant, ApiKey.Role.OPERATOR, "ci", now, Optional.of(now.plusSeconds(60)), "hash-" + tenant);
        await(access.createKey(k));
        assertEquals(Optional.of(k), await(access.keyByHash("hash-" + tenant)));
        assertEquals(List.of(k), await(access.keysOf(tenant)));
        assertTrue(await(access.deleteKey(tenant, "k1")));
        assertFalse(await(access.deleteKey(tenant, "k1")));
        assertEquals(Optional.empty(), await(access.keyByHash("hash-" + tenant)));
        assertEquals(List.of(), await(access.keysOf(tenant)));
    }

    @Test
    void directoryPagesOverEveryBucketWithoutLossOrRepeat() throws Exception {
        String tenant = uniq("t");
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 23; i++) {
            String id = "dev-" + i;
            ids.add(id);
            await(directory.upsert(new DeviceListing(tenant, id, "n" + i, i % 3 == 0 ? "gw" : "meter",
                    i % 5 == 0 ? List.of("roof") : List.of(), "provisioned", now, now)));
        }
        // an idempotent re-upsert changes nothing in the count
        await(directory.upsert(new DeviceListing(tenant, "dev-0", "n0", "gw", List.of("roof"), "active", now, now)));
        List<String> seen = new ArrayList<>();
        Optional<String> cursor = Optional.empty();
        int pages = 0;
        do {
            DeviceDirectory.Page page = await(directory.list(new DeviceDirectory.Query(tenant, cursor, 5,
                    Optional.empty(), Optional.empty())));
            assertTrue(page.items().size() <= 5);
            page.items().forEach(d -> seen.add(d.deviceId()));
            cursor = page.nextCursor();
            pages++;
        } while (cursor.isPresent() && pages < 20);
        assertEquals(23, seen.size(), seen.toString());
        assertEquals(23, new java.util.HashSet<>(seen).size());
        assertTrue(seen.containsAll(ids));

        List<String> gwRoof = new ArrayList<>();
        cursor = Optional.empty();
        do {
            DeviceDirectory.Page page = await(directory.list(new DeviceDirectory.Query(tenant, cursor, 2,
                    Optional.of("gw"), Optional.of("roof"))));
            page.items().forEach(d -> gwRoof.add(d.deviceId()));
            cursor = page.nextCursor();
        } while (cursor.isPresent());
        gwRoof.sort(null);
        assertEquals(List.of("dev-0", "dev-15"), gwRoof);

        ExecutionException bad = assertThrows(ExecutionException.class, () -> await(directory.list(
                new DeviceDirectory.Query(tenant, Optional.of("!!"), 5, Optional.empty(), Optional.empty()))));
        assertTrue(bad.getCause() instanceof IllegalArgumentException);
    }

    @Test
    void onlineSearchAndLifecycleFilterAndTheSummaryCountsEveryRow() throws Exception {
        String tenant = uniq("t");
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        for (int i = 0; i < 30; i++) {
            await(directory.upsert(new DeviceListing(tenant, (i < 10 ? "pump-" : "valve-") + i, i == 7 ? "Roof Pump" : null,
                    "meter", List.of(), i % 3 == 0 ? "active" : "provisioned", now, now)));
        }
        for (int i : new int[] {0, 3, 12}) {
            await(directory.updateOnline(tenant, (i < 10 ? "pump-" : "valve-") + i, true));
        }
        await(directory.updateOnline(tenant, "pump-3", false));
        // a whole row written with its online state (as a rebuild or a seed writes it)
        await(directory.upsert(new DeviceListing(tenant, "valve-29", null, "meter", List.of(), "provisioned", now, now, true)));
        assertEquals(List.of("pump-0", "valve-12", "valve-29"), all(new DeviceDirectory.Query(tenant, Optional.empty(), 4,
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(true))));
        // an id prefix or a part of the name, either case
        assertEquals(10, all(new DeviceDirectory.Query(tenant, Optional.empty(), 3, Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.of("PUMP-"), Optional.empty())).size());
        assertEquals(List.of("pump-7"), all(new DeviceDirectory.Query(tenant, Optional.empty(), 3, Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.of("roof p"), Optional.empty())));
        assertEquals(List.of("pump-0", "pump-3", "pump-6", "pump-9"), all(new DeviceDirectory.Query(tenant,
                Optional.empty(), 3, Optional.empty(), Optional.empty(), Optional.of("active"), Optional.of("pump"),
                Optional.empty())));

        DeviceDirectory.Summary sum = await(directory.summary(tenant, 1000));
        assertEquals(new DeviceDirectory.Summary(30, java.util.Map.of("active", 10L, "provisioned", 20L), 3, true), sum);
        DeviceDirectory.Summary bounded = await(directory.summary(tenant, 12));
        assertFalse(bounded.complete());
        assertTrue(bounded.devices() >= 12 && bounded.devices() < 30, bounded.toString());
    }

    private List<String> all(DeviceDirectory.Query first) throws Exception {
        List<String> ids = new ArrayList<>();
        DeviceDirectory.Query q = first;
        for (int pages = 0; pages < 100; pages++) {
            DeviceDirectory.Page page = await(directory.list(q));
            page.items().forEach(d -> ids.add(d.deviceId()));
            if (page.nextCursor().isEmpty()) {
                break;
            }
            q = new DeviceDirectory.Query(q.tenantId(), page.nextCursor(), q.limit(), q.type(), q.label(), q.lifecycle(),
                    q.search(), q.online());
        }
        ids.sort(null);
        return ids;
    }

    @Test
    void otherTenantsRowsNeverShow() throws Exception {
        String a = uniq("a");
        String b = uniq("b");
        Instant now = Instant.now();
        await(directory.upsert(new DeviceListing(a, "x", null, null, List.of(), "provisioned", now, now)));
        DeviceDirectory.Page page = await(directory.list(new DeviceDirectory.Query(b, Optional.empty(), 10,
                Optional.empty(), Optional.empty())));
        assertEquals(List.of(), page.items());
        assertEquals(Optional.empty(), page.nextCursor());
    }
}
