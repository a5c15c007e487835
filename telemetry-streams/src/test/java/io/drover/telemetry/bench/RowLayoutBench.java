package io.drover.telemetry.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Semaphore;

/**
 * What a storage layout costs Cassandra, with the raw driver and nothing of Drover's: a message of 4 numbers as
 * 4 rows clustered by (key, ts) like telemetry_raw ({@code rows4}), or as 1 row clustered by ts with the values in
 * a map ({@code row1}, UPDATE … SET nums = nums + ?, so no collection tombstone; {@code row1f}: a frozen map).
 * Both in unlogged batches of 10 partitions (one message of each of 10 devices), 16 in flight, USING TTL, TWCS;
 * 1,000 devices. Cassandra's CPU comes from /proc/PID/stat during each run and until it is quiet after it
 * (flushes, compaction). Round 0 is a warm-up, not printed. See docs/telemetry.md (issue 13).
 *   load-tests/row-layout-bench.sh [cassandra-port=9042] [seconds=20] [rounds=2] [layouts=rows4,row1]
 */
public final class RowLayoutBench {
    private RowLayoutBench() {}

    static long ticks(long pid) throws Exception {
        String[] f = Files.readString(Path.of("/proc/" + pid + "/stat")).split("\\) ")[1].split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    public static void main(String[] a) throws Exception {
        long pid = Long.parseLong(a[0]);
        int port = Integer.parseInt(a[4]);
        int seconds = Integer.parseInt(a[1]);
        int rounds = Integer.parseInt(a[2]);
        try (CqlSession s = CqlSession.builder().addContactPoint(new InetSocketAddress("127.0.0.1", port))
                .withLocalDatacenter("datacenter1").build()) {
            s.execute("CREATE KEYSPACE IF NOT EXISTS drover_layout_bench WITH replication = {'class':'SimpleStrategy','replication_factor':1}");
            String twcs = " AND compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'DAYS', 'compaction_window_size': 1}";
            s.execute("CREATE TABLE IF NOT EXISTS drover_layout_bench.rows4 (tenant_id text, device_id text, day int, key text, ts timestamp, num double, received_at timestamp, "
                    + "PRIMARY KEY ((tenant_id, device_id, day), key, ts)) WITH CLUSTERING ORDER BY (key ASC, ts DESC)" + twcs);
            s.execute("CREATE TABLE IF NOT EXISTS drover_layout_bench.row1 (tenant_id text, device_id text, day int, ts timestamp, nums map<text, double>, received_at timestamp, "
                    + "PRIMARY KEY ((tenant_id, device_id, day), ts)) WITH CLUSTERING ORDER BY (ts DESC)" + twcs);
            s.execute("CREATE TABLE IF NOT EXISTS drover_layout_bench.row1f (tenant_id text, device_id text, day int, ts timestamp, nums frozen<map<text, double>>, received_at timestamp, "
                    + "PRIMARY KEY ((tenant_id, device_id, day), ts)) WITH CLUSTERING ORDER BY (ts DESC)" + twcs);
            PreparedStatement p4 = s.prepare("INSERT INTO drover_layout_bench.rows4 (tenant_id, device_id, day, key, ts, num, received_at) VALUES (?,?,?,?,?,?,?) USING TTL 2592000");
            PreparedStatement p1 = s.prepare("UPDATE drover_layout_bench.row1 USING TTL 2592000 SET nums = nums + ?, received_at = ? WHERE tenant_id = ? AND device_id = ? AND day = ? AND ts = ?");
            PreparedStatement p1f = s.prepare("INSERT INTO drover_layout_bench.row1f (tenant_id, device_id, day, ts, nums, received_at) VALUES (?,?,?,?,?,?) USING TTL 2592000");
            String[] keys = {"temperature", "humidity", "pressure", "battery"};
            String[] layouts = a[3].split(",");
            for (int r = 0; r <= rounds; r++) {
                for (String layout : layouts) {
                    long t0 = System.nanoTime(), c0 = ticks(pid), msgs = 0;
                    Semaphore inflight = new Semaphore(16);
                    long seq = 0;
                    while (System.nanoTime() - t0 < seconds * 1_000_000_000L) {
                        // one batch: 10 devices (partitions), one message each, like the writer's replica batches
                        BatchStatementBuilder b = BatchStatement.builder(BatchType.UNLOGGED);
                        Instant now = Instant.now();
                        for (int d = 0; d < 10; d++) {
                            String dev = "device-" + ((seq * 10 + d) % 1000);
                            Instant ts = Instant.ofEpochMilli(now.toEpochMilli() + (seq % 1000));
                            int day = (int) (ts.toEpochMilli() / 86_400_000L);
                            if (layout.equals("rows4")) {
                                for (String k : keys) {
                                    b.addStatement(p4.bind("tenant-1", dev, day, k, ts, Math.random(), now));
                                }
                            } else {
                                Map<String, Double> m = new HashMap<>();
                                for (String k : keys) {
                                    m.put(k, Math.random());
                                }
                                b.addStatement(layout.equals("row1") ? p1.bind(m, now, "tenant-1", dev, day, ts)
                                        : p1f.bind("tenant-1", dev, day, ts, m, now));
                            }
                        }
                        seq++;
                        inflight.acquire();
                        s.executeAsync(b.build()).whenComplete((x, e) -> {
                            if (e != null) {
                                System.err.println(e);
                            }
                            inflight.release();
                        });
                        msgs += 10;
                    }
                    inflight.acquire(16);
                    double secs = (System.nanoTime() - t0) / 1e9;
                    long during = ticks(pid) - c0;
                    // then until Cassandra is quiet (< 10 % of a core over 2 s, at most 40 s): flushes, compaction
                    long settleStart = ticks(pid);
                    for (int i = 0; i < 20; i++) {
                        long x = ticks(pid);
                        Thread.sleep(2000);
                        if (ticks(pid) - x < 20) break;
                    }
                    long after = ticks(pid) - settleStart;
                    long c = during + after;
                    if (r > 0) {
                        System.out.printf("round %d %-6s %8.0f msg/s  Cassandra %5.1f us/msg during, %5.1f with the settling after%n",
                                r, layout, msgs / secs, during * 10_000.0 / msgs, c * 10_000.0 / msgs);
                    }
                }
            }
        }
    }
}
