package io.drover.loadtest.sim;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttClientBuilder;
import com.hivemq.client.mqtt.MqttClientTransportConfig;
import com.hivemq.client.mqtt.MqttClientTransportConfigBuilder;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;

/**
 * One process's share of the fleet: devices {@code index, index + count, …}, connected from
 * 127.0.0.(10 + index) when there are several processes, publishing at its share of the rate (or, with
 * rate 0, as fast as each device's in-flight window allows: every acknowledgement sends the next).
 * Publish→PUBACK latency goes into an HdrHistogram during the measured window only.
 */
final class Worker {

    /** One simulated device: its connection and its in-flight window. */
    private static final class Device {
        final String id;
        final Object client; // Mqtt5AsyncClient or Mqtt3AsyncClient
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicLong lastTs = new AtomicLong();
        final AtomicLong seq = new AtomicLong();

        Device(String id, Object client) {
            this.id = id;
            this.client = client;
        }
    }

    final AtomicLong sent = new AtomicLong();
    final AtomicLong acked = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong ackedInWindow = new AtomicLong();
    final AtomicInteger connected = new AtomicInteger();
    final AtomicInteger connectFailures = new AtomicInteger();
    /** Connections lost and made again to the next broker of the list. */
    final AtomicInteger reconnects = new AtomicInteger();
    private final java.util.concurrent.ScheduledExecutorService later =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "sim-resend");
                t.setDaemon(true);
                return t;
            });
    private volatile boolean stopping;
    final Recorder pubackMicros = new Recorder(3);
    final ConcurrentHashMap<String, AtomicLong> errors = new ConcurrentHashMap<>();

    private final Options o;
    private final Fleet fleet;
    private final int index;
    private final int count;
    private final long windowStart;
    private final long windowEnd;
    private final List<Device> devices = new ArrayList<>();
    private final String pad;
    private final boolean closedLoop;
    private final int inflight;
    private final int keys;
    private final MqttQos qos;

    Worker(Options o, Fleet fleet, int index, int count, long startAtMs) {
        this.o = o;
        this.fleet = fleet;
        this.index = index;
        this.count = count;
        this.windowStart = startAtMs + o.duration("ramp-up").toMillis();
        this.windowEnd = windowStart + o.duration("duration").toMillis();
        this.pad = "x".repeat(o.integer("pad"));
        this.closedLoop = o.integer("rate") <= 0;
        this.inflight = o.integer("inflight");
        this.keys = o.integer("keys");
        this.qos = o.integer("qos") == 0 ? MqttQos.AT_MOST_ONCE : MqttQos.AT_LEAST_ONCE;
    }

    void run() throws Exception {
        String[] brokers = o.get("mqtt").split(",");
        boolean v5 = o.get("mqtt-version").equals("5");
        boolean drover = o.get("target").equals("drover");
        List<Integer> mine = new ArrayList<>();
        for (int i = index; i < fleet.ids().size(); i += count) {
            mine.add(i);
        }
        long rampMs = Math.max(1, windowStart - System.currentTimeMillis());
        long begin = System.currentTimeMillis();
        Semaphore connecting = new Semaphore(200);
        List<CompletableFuture<?>> connects = new ArrayList<>();
        for (int k = 0; k < mine.size(); k++) {
            // connects spread over 80% of the ramp-up
            long wait = begin + (long) (rampMs * 0.8 * k / mine.size()) - System.currentTimeMillis();
            if (wait > 0) {
                Thread.sleep(wait);
            }
            int i = mine.get(k);
            String id = fleet.ids().get(i);
            String clientId = drover ? fleet.tenant() + ":" + id : id;
            byte[] secret = drover ? fleet.tokens().get(i).getBytes(StandardCharsets.UTF_8) : null;
            int home = i % brokers.length;
            java.util.concurrent.atomic.AtomicInteger at = new java.util.concurrent.atomic.AtomicInteger(home);
            MqttClientBuilder b = MqttClient.builder().identifier(clientId).transportConfig(transport(brokers[home]));
            if (brokers.length > 1) {
                // a cluster: on a lost connection go to the next broker of the list (after a short pause)
                b = b.addDisconnectedListener(ctx -> {
                    if (stopping || ctx.getSource() == com.hivemq.client.mqtt.lifecycle.MqttDisconnectSource.USER) {
                        return;
                    }
                    reconnects.incrementAndGet();
                    Throwable cause = ctx.getCause();
                    error("reconnect after: " + (cause.getMessage() != null && cause.getMessage().length() < 80
                            ? cause.getMessage() : cause.getClass().getSimpleName()));
                    int next = at.incrementAndGet() % brokers.length;
                    ctx.getReconnector().transportConfig(transport(brokers[next])).reconnect(true)
                            .delay(200, TimeUnit.MILLISECONDS);
                    // the client does not carry the password over to a reconnect (seen: BAD_USER_NAME_OR_PASSWORD)
                    if (secret != null && ctx instanceof com.hivemq.client.mqtt.mqtt5.lifecycle.Mqtt5ClientDisconnectedContext c5) {
                        c5.getReconnector().connectWith().cleanStart(true).simpleAuth().username(clientId).password(secret)
                                .applySimpleAuth().applyConnect();
                    } else if (secret != null
                            && ctx instanceof com.hivemq.client.mqtt.mqtt3.lifecycle.Mqtt3ClientDisconnectedContext c3) {
                        c3.getReconnector().connectWith().cleanSession(true).simpleAuth().username(clientId).password(secret)
                                .applySimpleAuth().applyConnect();
                    }
                });
            }
            connecting.acquire();
            CompletableFuture<?> c;
            Object client;
            byte[] password = drover ? fleet.tokens().get(i).getBytes(StandardCharsets.UTF_8) : null;
            if (v5) {
                Mqtt5AsyncClient m = b.useMqttVersion5().buildAsync();
                client = m;
                c = password == null ? m.connectWith().cleanStart(true).send()
                        : m.connectWith().cleanStart(true).simpleAuth().username(clientId).password(password).applySimpleAuth().send();
            } else {
                Mqtt3AsyncClient m = b.useMqttVersion3().buildAsync();
                client = m;
                c = password == null ? m.connectWith().cleanSession(true).send()
                        : m.connectWith().cleanSession(true).simpleAuth().username(clientId).password(password).applySimpleAuth().send();
            }
            Device d = new Device(id, client);
            connects.add(c.whenComplete((ok, err) -> {
                connecting.release();
                if (err == null) {
                    synchronized (devices) {
                        devices.add(d);
                    }
                    connected.incrementAndGet();
                } else {
                    connectFailures.incrementAndGet();
                    error("connect: " + err.getClass().getSimpleName());
                }
            }));
        }
        try {
            CompletableFuture.allOf(connects.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
        } catch (Exception e) {
            // counted per connection above
        }
        long untilWindow = windowStart - System.currentTimeMillis();
        if (untilWindow > 0 && !closedLoop) {
            Thread.sleep(untilWindow);
        }
        publish();
        disconnect();
    }

    private MqttClientTransportConfig transport(String broker) {
        String[] hp = broker.trim().split(":");
        MqttClientTransportConfigBuilder tc = MqttClientTransportConfig.builder().serverHost(hp[0])
                .serverPort(Integer.parseInt(hp[1]));
        if (count > 1) { // another source address per process: ~28k ephemeral ports each
            tc = tc.localAddress(new InetSocketAddress("127.0.0." + (10 + index), 0));
        }
        return tc.build();
    }

    private void error(String what) {
        errors.computeIfAbsent(what, x -> new AtomicLong()).incrementAndGet();
    }

    private void publish() throws InterruptedException {
        List<Device> ds;
        synchronized (devices) {
            ds = List.copyOf(devices);
        }
        if (ds.isEmpty()) {
            return;
        }
        if (closedLoop) {
            for (Device d : ds) {
                for (int k = 0; k < inflight; k++) {
                    send(d);
                }
            }
            Thread.sleep(Math.max(1, windowEnd - System.currentTimeMillis()));
        } else {
            double rate = o.integer("rate") / (double) count; // this worker's share, msg/s
            long start = System.nanoTime();
            long due = 0;
            int next = 0;
            while (System.currentTimeMillis() < windowEnd) {
                long target = (long) ((System.nanoTime() - start) / 1e9 * rate);
                for (; due < target; due++) {
                    Device d = ds.get(next++ % ds.size());
                    if (d.inFlight.get() >= inflight) {
                        error("skipped: device window full");
                    } else {
                        send(d);
                    }
                }
                Thread.sleep(2);
            }
        }
        long drain = System.currentTimeMillis() + 30_000;
        while (ds.stream().anyMatch(d -> d.inFlight.get() > 0) && System.currentTimeMillis() < drain) {
            Thread.sleep(10);
        }
    }

    private void send(Device d) {
        long now = System.currentTimeMillis();
        long ts = d.lastTs.updateAndGet(prev -> Math.max(now, prev + 1)); // unique per device: one row per message
        long seq = d.seq.getAndIncrement();
        StringBuilder p = new StringBuilder(64 + pad.length()).append("{\"ts\":").append(ts).append(",\"values\":{");
        for (int k = 0; k < keys; k++) {
            p.append("\"k").append(k).append("\":").append((seq + k) % 1000).append(".5,");
        }
        p.append("\"seq\":").append(seq);
        if (!pad.isEmpty()) {
            p.append(",\"pad\":\"").append(pad).append('"');
        }
        p.append("}}");
        byte[] payload = p.toString().getBytes(StandardCharsets.UTF_8);
        String topic = "devices/" + d.id + "/telemetry";
        d.inFlight.incrementAndGet();
        sent.incrementAndGet();
        long t0 = System.nanoTime();
        CompletableFuture<?> f;
        if (d.client instanceof Mqtt5AsyncClient m) {
            f = m.publishWith().topic(topic).qos(qos).payload(payload).send().thenApply(r -> {
                if (r.getError().isPresent()) {
                    throw new IllegalStateException(r.getError().get().getMessage());
                }
                return r;
            });
        } else {
            f = ((Mqtt3AsyncClient) d.client).publishWith().topic(topic).qos(qos).payload(payload).send();
        }
        f.whenComplete((r, err) -> {
            d.inFlight.decrementAndGet();
            long end = System.currentTimeMillis();
            if (err == null) {
                acked.incrementAndGet();
                if (end >= windowStart && end < windowEnd) {
                    ackedInWindow.incrementAndGet();
                    pubackMicros.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
                }
                if (closedLoop && end < windowEnd) {
                    send(d); // a failed device stops instead; its failures are counted
                }
            } else {
                failed.incrementAndGet();
                Throwable c = err.getCause() != null ? err.getCause() : err;
                String m = c.getMessage();
                error("publish: " + (m != null && m.length() < 80 ? m : c.getClass().getSimpleName()));
                if (closedLoop && reconnectsEnabled() && end < windowEnd) {
                    // in a cluster the device comes back on another broker: go on from there
                    later.schedule(() -> send(d), 250, TimeUnit.MILLISECONDS);
                }
            }
        });
    }

    private boolean reconnectsEnabled() {
        return o.get("mqtt").contains(",");
    }

    private void disconnect() {
        stopping = true;
        later.shutdownNow();
        List<CompletableFuture<?>> all = new ArrayList<>();
        synchronized (devices) {
            for (Device d : devices) {
                all.add(d.client instanceof Mqtt5AsyncClient m ? m.disconnect() : ((Mqtt3AsyncClient) d.client).disconnect());
            }
        }
        try {
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // closing anyway
        }
    }
}
