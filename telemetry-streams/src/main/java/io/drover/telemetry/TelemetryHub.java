package io.drover.telemetry;

import io.drover.persistence.RetentionPolicy;
import io.drover.persistence.RollupWindow;
import io.drover.persistence.TelemetrySample;
import io.drover.persistence.TelemetryStore;
import io.drover.shard.BoundedCache;
import io.drover.shard.Stages;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.BroadcastHub;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's telemetry graph (docs/telemetry.md). In: the MQTT and HTTP edges, through one bounded queue.
 * Then batches of up to {@code batch-size} messages, of {@code batch-window} or (0) of what arrived while the
 * writer was busy, written with bounded
 * parallelism (raw rows, latest values, rollup pending marks). Each message's future completes only when
 * its samples are durable — that is when the device gets its PUBACK (or HTTP answer), so a slow Cassandra
 * slows the acknowledgements: the writer backpressures the queue, a full queue refuses (the device is not
 * acknowledged and sends again). Out, once durable: the rollup tracker, and the hub's one output,
 * {@link #stored()}: every stored message, in the order its batch completed, for the consumers that subscribe
 * (the live feed, the rules engine). The output is bounded ({@code output-buffer} messages): the slowest consumer
 * backpressures the writer, so nothing stored is dropped on the way to the rules; a consumer that must never slow
 * the ingest (the live feed) is cheap and does its own dropping. A tick recomputes due rollup windows, a sweeper
 * those left pending by a stopped node. No stage fails the stream; a failed write fails only its messages.
 */
public final class TelemetryHub {

    private static final Logger log = LoggerFactory.getLogger(TelemetryHub.class);

    /** The queue is full: Drover is slower than its devices right now. */
    public static final class Overloaded extends RuntimeException {
        Overloaded() {
            super("telemetry queue full", null, false, false);
        }
    }

    /**
     * One stored message of one device (all its samples share tenant and device). {@code derived}: written by a
     * rule's derive action.
     */
    public record Stored(String tenantId, String deviceId, List<TelemetrySample> samples, boolean derived) {}

    private record Pending(List<TelemetrySample> samples, CompletableFuture<Void> done, boolean derived) {}

    private final BoundedSourceQueue<Pending> queue;
    private final CompletionStage<Done> finished;
    private final List<UniqueKillSwitch> background = new ArrayList<>();
    private final TelemetryStore store;
    private final RetentionPolicy retention;
    private final TelemetrySettings.Limits limits;
    /** tenant\0device → the keys the device has (its telemetry_latest rows, then what this node accepted). */
    private final BoundedCache<String, Set<String>> keySets;
    private final TelemetryCodec codec;
    private final RollupTracker tracker;
    private final Source<Stored, NotUsed> stored;
    private final Clock clock;
    private final ActorSystem<?> system;
    private final int writeAttempts;
    private final Duration writeBackoff;
    private final Gauge queueDepth;
    private final Counter refused;
    private final Counter recomputed;
    /** This hub incarnation's name in the writers of the rollup marks it folds (V008): a restart is a new writer. */
    private final String writerId = "hub-" + java.util.UUID.randomUUID();
    private final java.util.concurrent.atomic.AtomicLong folded = new java.util.concurrent.atomic.AtomicLong();

    /** Starts the streams; stop them with {@link #drain} (the node does so in coordinated shutdown). */
    public TelemetryHub(ActorSystem<?> system, TelemetryStore store, TelemetrySettings settings,
            PrometheusRegistry registry, Clock clock) {
        this(system, store, settings, registry, clock, null);
    }

    /** @param retention the tenants' retention, for {@link #admit} (null: no sample is too old) */
    public TelemetryHub(ActorSystem<?> system, TelemetryStore store, TelemetrySettings settings,
            PrometheusRegistry registry, Clock clock, RetentionPolicy retention) {
        this.store = store;
        this.retention = retention;
        this.limits = settings.limits();
        this.keySets = new BoundedCache<>(limits.devicesTracked(), Duration.ofHours(1));
        this.system = system;
        this.writeAttempts = settings.writeAttempts();
        this.writeBackoff = settings.writeBackoff();
        this.clock = clock;
        this.codec = new TelemetryCodec(settings.maxPayloadBytes(), settings.maxClockSkew());
        TelemetrySettings.Rollups r = settings.rollups();
        this.tracker = new RollupTracker(r.grace().toMillis(), r.markMargin().toMillis(), r.maxTrackedWindows());
        this.queueDepth = Gauge.builder().name("drover_telemetry_queue_depth")
                .help("Telemetry messages waiting for the Cassandra writer").register(registry);
        this.refused = Counter.builder().name("drover_telemetry_refused_total")
                .help("Telemetry messages refused because the writer queue was full").register(registry);
        this.recomputed = Counter.builder().name("drover_telemetry_rollups_recomputed_total")
                .help("Rollup windows stored, by resolution, trigger and outcome (folded: from this node's in-memory fold, "
                        + "ok: recomputed from the stored rows)")
                .labelNames("resolution", "trigger", "outcome").register(registry);
        Gauge tracked = Gauge.builder().name("drover_telemetry_rollup_windows_tracked")
                .help("Rollup windows this node will recompute when due").register(registry);

        Pair<Pair<BoundedSourceQueue<Pending>, CompletionStage<Done>>, Source<Stored, NotUsed>> run =
                batches(Source.<Pending>queue(settings.queueSize()), settings)
                        .mapAsyncUnordered(settings.writeParallelism(), this::write)
                        .named("telemetry-writer")
                        .mapConcat(batch -> batch)
                        .watchTermination(Keep.both())
                        .toMat(BroadcastHub.of(Stored.class, settings.outputBuffer()), Keep.both())
                        .run(system);
        this.queue = run.first().first();
        this.finished = run.first().second();
        this.stored = run.second();
        // Keeps the output flowing while no other consumer is attached (a hub without consumers backpressures).
        stored.runWith(Sink.ignore(), system);

        background.add(Source.tick(r.tick(), r.tick(), "tick")
                .mapConcat(t -> {
                    tracked.set(tracker.size());
                    return tracker.due(clock.millis(), 1000);
                })
                .mapAsyncUnordered(r.parallelism(), this::storeDue)
                .viaMat(KillSwitches.single(), Keep.right())
                .to(Sink.ignore())
                .run(system));
        background.add(Source.tick(limits.latestFlushInterval(), limits.latestFlushInterval(), "flush")
                .mapAsync(1, t -> store.flushLatest(false).exceptionally(err -> {
                    log.warn("Latest-value checkpoints could not be written (tried again next time): {}", err.toString());
                    return 0;
                }))
                .viaMat(KillSwitches.single(), Keep.right())
                .to(Sink.ignore())
                .run(system));
        Duration firstSweep = Duration.ofMillis(ThreadLocalRandom.current().nextLong(r.sweepInterval().toMillis()) + 1);
        background.add(Source.tick(firstSweep, r.sweepInterval(), "sweep")
                .mapAsync(1, t -> {
                    Instant before = clock.instant().minus(r.sweepAfter());
                    return store.pending(RollupWindow.Resolution.MINUTE, before, r.sweepBatch())
                            .thenCombine(store.pending(RollupWindow.Resolution.HOUR, before, r.sweepBatch()), (m, h) -> {
                                List<RollupWindow> all = new ArrayList<>(m);
                                all.addAll(h);
                                return all;
                            })
                            .exceptionally(err -> {
                                log.warn("Rollup sweep could not list pending windows: {}", err.toString());
                                return List.of();
                            });
                })
                .mapConcat(l -> l)
                .mapAsyncUnordered(r.parallelism(), w -> recompute(w, "sweeper"))
                .viaMat(KillSwitches.single(), Keep.right())
                .to(Sink.ignore())
                .run(system));
    }

    /**
     * A batch is what arrived while the writer was busy ({@code batch-window = 0}: no timer, so a message that
     * finds a free write slot is written at once), or what arrived within {@code batch-window}. Either way at most
     * {@code batch-size} messages.
     */
    private static <M> Source<List<Pending>, M> batches(Source<Pending, M> in, TelemetrySettings settings) {
        if (!settings.batchWindow().isZero()) {
            return in.groupedWithin(settings.batchSize(), settings.batchWindow());
        }
        return in.batch(settings.batchSize(), p -> {
            List<Pending> l = new ArrayList<>();
            l.add(p);
            return l;
        }, (l, p) -> {
            l.add(p);
            return l;
        });
    }

    private CompletionStage<List<Stored>> write(List<Pending> batch) {
        List<TelemetrySample> all = new ArrayList<>();
        batch.forEach(p -> all.addAll(p.samples()));
        RollupTracker.Begun begun = tracker.begin(all, clock.millis());
        // Writes are idempotent upserts, so a failed attempt (e.g. a write timeout) is simply tried again;
        // the messages' acknowledgements wait meanwhile, which is the backpressure the devices feel.
        CompletionStage<Void> written = Stages.direct(Patterns.retry(() -> {
            try {
                return store.write(all, begun.folded(), begun.unfolded(), writerId);
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }, Math.max(0, writeAttempts - 1), writeBackoff, writeBackoff.multipliedBy(8), 0.2, system)); // retries after the first
        return written.handle((ok, err) -> {
            tracker.end(begun.touched(), err == null);
            List<Stored> out = err == null ? new ArrayList<>(batch.size()) : List.of();
            for (Pending p : batch) {
                if (err == null) {
                    p.done().complete(null);
                    TelemetrySample first = p.samples().get(0);
                    out.add(new Stored(first.tenantId(), first.deviceId(), p.samples(), p.derived()));
                } else {
                    p.done().completeExceptionally(err);
                }
            }
            return out;
        });
    }

    /** A due window: its exact fold if the tracker has one (the store still recomputes if others wrote), else recompute. */
    private CompletionStage<Done> storeDue(RollupTracker.Due due) {
        if (due.fold() == null) {
            return recompute(due.window(), "tracker");
        }
        CompletionStage<TelemetryStore.Folded> f;
        try {
            f = store.fold(due.window(), due.fold(), writerId);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        return f.handle((r, err) -> {
            if (err != null) {
                recomputed.labelValues("minute", "tracker", "failed").inc();
                log.debug("Rollup {} not stored: {}", due.window(), err.toString());
            } else {
                if (r.folded()) {
                    folded.incrementAndGet();
                }
                recomputed.labelValues("minute", "tracker", r.folded() ? "folded" : "ok").inc();
                r.hour().ifPresent(h -> tracker.hourChanged(h, clock.millis()));
            }
            return Done.getInstance();
        });
    }

    private CompletionStage<Done> recompute(RollupWindow w, String trigger) {
        String res = w.resolution().name().toLowerCase();
        CompletionStage<Optional<RollupWindow>> r;
        try {
            r = store.recompute(w);
        } catch (RuntimeException e) {
            r = CompletableFuture.failedFuture(e);
        }
        return r.handle((hour, err) -> {
            if (err != null) {
                // Its pending mark stays in Cassandra: the sweeper tries again.
                recomputed.labelValues(res, trigger, "failed").inc();
                log.debug("Rollup {} not recomputed: {}", w, err.toString());
            } else {
                recomputed.labelValues(res, trigger, "ok").inc();
                hour.ifPresent(h -> tracker.hourChanged(h, clock.millis()));
            }
            return Done.getInstance();
        });
    }

    /** Completes when the samples are durable; fails with {@link Overloaded} when the queue is full. */
    public CompletionStage<Void> submit(List<TelemetrySample> samples) {
        return submit(samples, false);
    }

    /**
     * What the codec cannot check about one message of one device (all {@code samples} share it): a sample older
     * than the tenant's raw retention ({@code timestamp-too-old}: it would be stored for a second, and a far-past
     * time makes every read of the device's history wider), and a new key past
     * {@code limits.max-keys-per-device} ({@code too-many-keys}). Empty: submit it. The key set of a device is
     * read once per node (its telemetry_latest rows) and kept in an LRU of {@code limits.devices-tracked} devices;
     * a key accepted here counts from then on, even if its write then fails (it is sent again).
     */
    public CompletionStage<Optional<TelemetryCodec.Invalid>> admit(List<TelemetrySample> samples) {
        if (samples.isEmpty()) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        TelemetrySample first = samples.get(0);
        CompletionStage<Optional<TelemetryCodec.Invalid>> age = retention == null
                ? CompletableFuture.completedFuture(Optional.empty())
                : retention.of(first.tenantId()).thenApply(r -> tooOld(samples, r.rawDays()));
        return age.thenCompose(bad -> bad.isPresent() ? CompletableFuture.completedFuture(bad) : keys(samples));
    }

    private Optional<TelemetryCodec.Invalid> tooOld(List<TelemetrySample> samples, int rawDays) {
        long oldest = clock.millis() - rawDays * 86_400_000L;
        for (TelemetrySample s : samples) {
            if (s.ts().toEpochMilli() < oldest) {
                return Optional.of(new TelemetryCodec.Invalid("timestamp-too-old", "\"ts\" " + s.ts()
                        + " is older than this tenant keeps raw telemetry (" + rawDays + " days)"));
            }
        }
        return Optional.empty();
    }

    private CompletionStage<Optional<TelemetryCodec.Invalid>> keys(List<TelemetrySample> samples) {
        TelemetrySample first = samples.get(0);
        String id = first.tenantId() + '\u0000' + first.deviceId();
        Optional<Set<String>> known = keySets.get(id);
        CompletionStage<Set<String>> set = known.isPresent() ? CompletableFuture.completedFuture(known.get())
                : store.keys(first.tenantId(), first.deviceId()).thenApply(list -> {
                    Set<String> loaded = ConcurrentHashMap.newKeySet();
                    loaded.addAll(list);
                    return keySets.computeIfAbsent(id, k -> loaded);
                });
        return set.thenApply(keys -> {
            synchronized (keys) {
                Set<String> fresh = new HashSet<>();
                for (TelemetrySample s : samples) {
                    if (!keys.contains(s.key())) {
                        fresh.add(s.key());
                    }
                }
                if (keys.size() + fresh.size() > limits.maxKeysPerDevice()) {
                    return Optional.of(new TelemetryCodec.Invalid("too-many-keys", "a device may have at most "
                            + limits.maxKeysPerDevice() + " distinct telemetry keys; it has " + keys.size()));
                }
                keys.addAll(fresh);
                return Optional.empty();
            }
        });
    }

    /** As {@link #submit(List)}; {@code derived}: the samples come from a rule's derive action. */
    public CompletionStage<Void> submit(List<TelemetrySample> samples, boolean derived) {
        Pending p = new Pending(samples, new CompletableFuture<>(), derived);
        QueueOfferResult r = queue.offer(p);
        queueDepth.set(queue.size());
        if (r == QueueOfferResult.enqueued()) {
            return p.done();
        }
        refused.inc();
        return CompletableFuture.failedFuture(r == QueueOfferResult.dropped() ? new Overloaded()
                : new IllegalStateException("telemetry ingest is stopped"));
    }

    /**
     * The hub's output: every message once it is stored. Each materialization is one more consumer; attach them
     * before the edges start taking messages (what was stored before a consumer attached, it does not see).
     */
    public Source<Stored, NotUsed> stored() {
        return stored;
    }

    /** The payload rules every edge shares (MQTT and HTTP). */
    public TelemetryCodec codec() {
        return codec;
    }

    /** Minute windows this hub stored from its in-memory fold, without reading their rows back (tests, benchmarks). */
    public long foldedWindows() {
        return folded.get();
    }

    /** Windows this node still has to recompute (for tests and metrics). */
    public int trackedWindows() {
        return tracker.size();
    }

    /**
     * Accepts nothing more; completes when everything accepted is written. Windows not yet recomputed keep
     * their durable pending marks, which the sweeper (of any node) takes over.
     */
    public CompletionStage<Done> drain() {
        queue.complete();
        return finished.whenComplete((d, e) -> background.forEach(UniqueKillSwitch::shutdown));
    }
}
