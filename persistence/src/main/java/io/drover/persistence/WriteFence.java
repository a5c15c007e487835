package io.drover.persistence;

import java.time.Duration;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Detects that this process did not run for longer than {@code threshold} (SIGSTOP, a VM pause, a stall) and
 * from then on fences journal writes for good. A watchdog thread ticks every 100 ms; a gap between ticks above
 * the threshold, seen either by the watchdog or by a writer reading the last tick, sets the fence.
 *
 * <p>Why it is safe: the other members down a node only after its heartbeats have been missing for the failure
 * detector's pause (3 s) plus the resolver's stable-after (4 s), and start its shards another down-removal-margin
 * (2 s) later; a freeze shorter than the threshold (4 s, below 7 s) can never have overlapped another writer.
 * Ordering: the watchdog writes {@code fenced} before {@code lastTick}; a writer reads {@code lastTick} first,
 * so if it sees a fresh tick after a gap it also sees the fence. The residual window is a freeze that falls
 * between this check and the driver sending the write (microseconds); docs/cluster.md says so.
 */
public final class WriteFence {

    static final CoordinatedShutdown.Reason REASON = new CoordinatedShutdown.Reason() {
        @Override
        public String toString() {
            return "frozen-past-downing";
        }
    };

    private static final Logger log = LoggerFactory.getLogger(WriteFence.class);
    private static volatile long thresholdNanos = Long.MAX_VALUE;
    private static volatile long lastTick = System.nanoTime();
    private static volatile boolean fenced;
    private static Thread watchdog;

    private WriteFence() {}

    static synchronized void start(Duration threshold) {
        thresholdNanos = threshold.toNanos();
        if (watchdog != null) {
            return;
        }
        lastTick = System.nanoTime();
        watchdog = new Thread(() -> {
            while (true) {
                long now = System.nanoTime();
                if (now - lastTick > thresholdNanos && !fenced) {
                    fenced = true;
                    log.error("This process did not run for {} ms (frozen or stalled past the cluster's downing "
                            + "decision): journal writes are fenced and the node shuts down", (now - lastTick) / 1_000_000);
                }
                lastTick = now;
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "drover-write-fence");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    /** True once a freeze past the threshold was seen (by the watchdog, or now). */
    public static boolean fenced() {
        long tick = lastTick; // read before the flag (see the class comment)
        if (fenced) {
            return true;
        }
        if (System.nanoTime() - tick > thresholdNanos) {
            fenced = true;
            return true;
        }
        return false;
    }
}
