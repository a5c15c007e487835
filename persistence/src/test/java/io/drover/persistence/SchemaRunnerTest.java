package io.drover.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import io.drover.persistence.testing.CassandraExtension;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(CassandraExtension.class)
class SchemaRunnerTest {

    @Test
    void splitsStatementsAndDropsComments() {
        List<String> s = SchemaRunner.statements("-- c\nCREATE TABLE a (x int PRIMARY KEY);\n\nCREATE TABLE b (\n y int PRIMARY KEY);\n");
        assertEquals(List.of("CREATE TABLE a (x int PRIMARY KEY)", "CREATE TABLE b (\n y int PRIMARY KEY)"), s);
    }

    @Test
    void appliesEveryVersionOnceAndRecordsIt() {
        String ks = "schema_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        PersistenceSettings settings = new PersistenceSettings(ks,
                "{'class': 'SimpleStrategy', 'replication_factor': 1}", true, 16,
                "127.0.0.1:" + CassandraExtension.port(), Duration.ofSeconds(30), Path.of("unused"), 256);
        try (CqlSession session = CqlSession.builder()
                .addContactPoint(new InetSocketAddress("127.0.0.1", CassandraExtension.port()))
                .withLocalDatacenter("datacenter1").build()) {
            SchemaRunner runner = new SchemaRunner(session, settings);
            int files = runner.migrations().size();
            assertTrue(files >= 2);
            assertEquals(files, runner.migrate().size(), "first run applies every file");
            assertEquals(List.of(), runner.migrate(), "second run applies nothing");
            assertEquals(files, runner.appliedChecksums().size());
            for (String table : List.of("messages", "snapshots", "tenants", "api_keys_by_hash", "devices_by_tenant")) {
                assertTrue(session.getMetadata().getKeyspace(ks).flatMap(k -> k.getTable(table)).isPresent(), table);
            }
            session.execute("DROP KEYSPACE " + ks);
        }
    }
}
