package io.drover.persistence;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the versioned CQL files listed in {@code drover/cql/index.txt} that the keyspace has not
 * recorded in {@code schema_versions} yet. Idempotent: every statement is {@code IF NOT EXISTS},
 * a version is recorded only after all its statements ran, and nodes starting together take an
 * LWT lock so DDL is never issued concurrently (Cassandra handles concurrent schema changes badly).
 * A file that was applied and then edited stops the start: schema changes come as new files.
 */
public final class SchemaRunner {

    private static final Logger log = LoggerFactory.getLogger(SchemaRunner.class);
    private static final String INDEX = "/drover/cql/index.txt";

    public record Migration(int version, String file, String cql, String checksum) {}

    private final CqlSession session;
    private final PersistenceSettings settings;

    public SchemaRunner(CqlSession session, PersistenceSettings settings) {
        this.session = session;
        this.settings = settings;
    }

    /** Applies what is missing; returns the versions applied by this call. */
    public List<Integer> migrate() {
        String ks = settings.keyspace();
        session.execute(SimpleStatement.newInstance(
                "CREATE KEYSPACE IF NOT EXISTS " + ks + " WITH replication = " + settings.replication()));
        session.execute("CREATE TABLE IF NOT EXISTS " + ks + ".schema_versions ("
                + "version int PRIMARY KEY, file text, checksum text, applied_at timestamp)");
        session.execute("CREATE TABLE IF NOT EXISTS " + ks + ".schema_lock (id text PRIMARY KEY, owner text)");

        List<Migration> all = migrations();
        if (pending(all, appliedChecksums()).isEmpty()) {
            return List.of(); // the usual start: nothing to apply, no lock taken
        }
        String owner = UUID.randomUUID().toString();
        acquireLock(owner);
        try {
            List<Integer> done = new ArrayList<>();
            for (Migration m : pending(all, appliedChecksums())) { // again under the lock: another node may have applied some
                long t0 = System.nanoTime();
                for (String stmt : statements(m.cql())) {
                    session.execute(SimpleStatement.newInstance(stmt).setTimeout(Duration.ofSeconds(60)));
                }
                session.execute(SimpleStatement.newInstance(
                        "INSERT INTO " + ks + ".schema_versions (version, file, checksum, applied_at) VALUES (?, ?, ?, ?)",
                        m.version(), m.file(), m.checksum(), Instant.now()));
                log.info("Applied schema {} to keyspace {} in {} ms", m.file(), ks, (System.nanoTime() - t0) / 1_000_000);
                done.add(m.version());
            }
            return done;
        } finally {
            session.execute(SimpleStatement.newInstance(
                    "DELETE FROM " + ks + ".schema_lock WHERE id = 'migrate' IF owner = ?", owner));
        }
    }

    /** The migrations not applied yet; fails when an applied file was edited afterwards. */
    private List<Migration> pending(List<Migration> all, Map<Integer, String> applied) {
        List<Migration> out = new ArrayList<>();
        for (Migration m : all) {
            String known = applied.get(m.version());
            if (known == null) {
                out.add(m);
            } else if (!known.equals(m.checksum())) {
                throw new IllegalStateException("schema file " + m.file() + " changed after it was applied "
                        + "to keyspace " + settings.keyspace() + "; add a new versioned file instead");
            }
        }
        return out;
    }

    public Map<Integer, String> appliedChecksums() {
        ResultSet rs = session.execute("SELECT version, checksum FROM " + settings.keyspace() + ".schema_versions");
        return rs.all().stream().collect(Collectors.toMap(r -> r.getInt("version"), r -> r.getString("checksum")));
    }

    private void acquireLock(String owner) {
        Instant deadline = Instant.now().plus(settings.schemaLockTimeout());
        while (true) {
            Row r = session.execute(SimpleStatement.newInstance(
                    "INSERT INTO " + settings.keyspace() + ".schema_lock (id, owner) VALUES ('migrate', ?) "
                            + "IF NOT EXISTS USING TTL 300", owner)).one();
            if (r != null && r.getBoolean("[applied]")) {
                return;
            }
            if (Instant.now().isAfter(deadline)) {
                throw new IllegalStateException("schema lock in keyspace " + settings.keyspace()
                        + " held by another node for longer than " + settings.schemaLockTimeout());
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** The migrations in index order, with the keyspace filled in. */
    public List<Migration> migrations() {
        List<Migration> result = new ArrayList<>();
        for (String file : readResource(INDEX).lines().map(String::trim)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList()) {
            String raw = readResource("/drover/cql/" + file);
            int version = Integer.parseInt(file.substring(1, file.indexOf("__")));
            result.add(new Migration(version, file, raw.replace("${keyspace}", settings.keyspace()), sha256(raw)));
        }
        return result;
    }

    /** Splits a CQL file into statements: comment lines dropped, ';' at a line end closes one. */
    static List<String> statements(String cql) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : cql.split("\n")) {
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("--")) {
                continue;
            }
            current.append(line).append('\n');
            if (t.endsWith(";")) {
                String stmt = current.toString().strip();
                out.add(stmt.substring(0, stmt.length() - 1));
                current.setLength(0);
            }
        }
        if (!current.toString().isBlank()) {
            out.add(current.toString().strip());
        }
        return out;
    }

    private static String readResource(String path) {
        try (InputStream in = SchemaRunner.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing schema resource " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
