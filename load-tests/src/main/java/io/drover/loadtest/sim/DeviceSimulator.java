package io.drover.loadtest.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The MQTT device simulator: a fleet of devices (provisioned over REST for Drover, or anonymous for the raw
 * Mosquitto baseline) that connect, publish telemetry at a rate for a duration, and report throughput,
 * publish→PUBACK latency and (Drover) publish→WebSocket latency as HdrHistograms, with a progress line every
 * second and the results as JSON. Black box: MQTT, HTTP and WebSocket only. Run it with
 * {@code load-tests/simulate.sh --help}.
 */
public final class DeviceSimulator {

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.print(Options.usage());
            return;
        }
        Options o = new Options(args);
        if (!o.get("worker").isEmpty()) {
            runWorker(o);
            return;
        }
        ObjectNode result = new DeviceSimulator().coordinate(o);
        String json = Fleet.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(result);
        if (!o.get("out").isEmpty()) {
            Path out = Path.of(o.get("out"));
            if (out.getParent() != null) {
                Files.createDirectories(out.getParent());
            }
            Files.writeString(out, json);
        }
        System.out.println(json);
        System.exit(0);
    }

    // ------------------------------------------------------------------------------------------ worker process

    /** A worker process: its share of the fleet; progress and result as JSON lines on stdout. */
    private static void runWorker(Options o) throws Exception {
        String[] w = o.get("worker").split("/");
        Fleet fleet = o.get("target").equals("drover") ? Fleet.read(Path.of(o.get("fleet")))
                : Fleet.anonymous(o.integer("devices"));
        fleet = new Fleet(fleet.tenant(), fleet.tenantKey(), fleet.ids().subList(0, o.integer("devices")),
                fleet.tokens().isEmpty() ? List.of() : fleet.tokens().subList(0, o.integer("devices")));
        long startAt = Long.parseLong(System.getProperty("sim.startAt"));
        Worker worker = new Worker(o, fleet, Integer.parseInt(w[0]), Integer.parseInt(w[1]), startAt);
        Thread progress = new Thread(() -> {
            while (true) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
                System.out.println(progressLine(worker).toString());
                System.out.flush();
            }
        });
        progress.setDaemon(true);
        progress.start();
        worker.run();
        progress.interrupt();
        ObjectNode r = progressLine(worker);
        r.put("type", "result");
        r.put("histogram", encode(worker.pubackMicros.getIntervalHistogram()));
        ObjectNode errors = r.putObject("errors");
        worker.errors.forEach((k, v) -> errors.put(k, v.get()));
        System.out.println(r.toString());
        System.out.flush();
        System.exit(0);
    }

    private static ObjectNode progressLine(Worker w) {
        ObjectNode n = Fleet.JSON.createObjectNode();
        n.put("type", "progress");
        n.put("connected", w.connected.get());
        n.put("connectFailures", w.connectFailures.get());
        n.put("reconnects", w.reconnects.get());
        n.put("sent", w.sent.get());
        n.put("acked", w.acked.get());
        n.put("failed", w.failed.get());
        n.put("ackedInWindow", w.ackedInWindow.get());
        return n;
    }

    private static String encode(Histogram h) {
        ByteBuffer b = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int n = h.encodeIntoCompressedByteBuffer(b);
        return Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(b.array(), n));
    }

    private static Histogram decode(String s) throws DataFormatException {
        return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(s)), 0);
    }

    // ------------------------------------------------------------------------------------------ coordinator

    private final Recorder wsMillis = new Recorder(3);
    private final AtomicLong wsFrames = new AtomicLong();
    private final AtomicLong drained = new AtomicLong();

    private ObjectNode coordinate(Options o) throws Exception {
        boolean drover = o.get("target").equals("drover");
        int devices = o.integer("devices");
        int processes = o.integer("processes");
        Fleet fleet;
        String fleetFile = o.get("fleet");
        if (drover) {
            if (fleetFile.isEmpty()) {
                fleetFile = Files.createTempFile("drover-fleet", ".json").toString();
                Files.delete(Path.of(fleetFile));
            }
            String adminKey = Files.readString(Path.of(o.get("admin-key-file"))).trim();
            fleet = Fleet.provision(o.get("api"), adminKey, devices, fleetFile);
            fleet.write(Path.of(fleetFile));
            if (Boolean.parseBoolean(o.get("provision-only"))) {
                ObjectNode s = Fleet.JSON.createObjectNode();
                s.put("provisioned", fleet.ids().size());
                s.put("fleet", fleetFile);
                return s;
            }
        } else {
            fleet = Fleet.anonymous(devices);
        }
        long startAt = System.currentTimeMillis() + (processes > 1 ? 3000 : 500);
        long windowStart = startAt + o.duration("ramp-up").toMillis();
        long windowEnd = windowStart + o.duration("duration").toMillis();

        List<AutoCloseable> watchers = new ArrayList<>();
        if (drover && o.integer("ws-devices") > 0) {
            watchers.addAll(watch(o, fleet, windowStart, windowEnd));
        }
        Mqtt5AsyncClient drain = null;
        if (!drover) { // the baseline is a pass-through: one subscriber takes every message from the broker
            String[] hp = o.get("mqtt").split(":");
            drain = MqttClient.builder().useMqttVersion5().identifier("sim-drain").serverHost(hp[0])
                    .serverPort(Integer.parseInt(hp[1])).buildAsync();
            drain.connect().get(10, TimeUnit.SECONDS);
            drain.subscribeWith().topicFilter("devices/+/telemetry")
                    .qos(o.integer("qos") == 0 ? MqttQos.AT_MOST_ONCE : MqttQos.AT_LEAST_ONCE)
                    .callback(p -> drained.incrementAndGet()).send().get(10, TimeUnit.SECONDS);
        }

        List<ObjectNode> results = new ArrayList<>();
        if (processes <= 1) {
            Worker w = new Worker(o, fleet, 0, 1, startAt);
            Thread t = new Thread(() -> {
                try {
                    w.run();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            t.start();
            while (t.isAlive()) {
                t.join(1000);
                ObjectNode p = progressLine(w);
                printProgress(List.of(p), windowStart, windowEnd);
            }
            ObjectNode r = progressLine(w);
            r.put("histogram", encode(w.pubackMicros.getIntervalHistogram()));
            ObjectNode errors = r.putObject("errors");
            w.errors.forEach((k, v) -> errors.put(k, v.get()));
            results.add(r);
        } else {
            results.addAll(runProcesses(o, fleetFile, processes, startAt, windowStart, windowEnd));
        }
        if (drain != null) {
            drain.disconnect();
        }
        for (AutoCloseable c : watchers) {
            c.close();
        }
        return summarize(o, fleet, results, windowStart, windowEnd);
    }

    private List<ObjectNode> runProcesses(Options o, String fleetFile, int processes, long startAt, long windowStart,
            long windowEnd) throws Exception {
        List<Process> ps = new ArrayList<>();
        ObjectNode[] last = new ObjectNode[processes];
        ObjectNode[] result = new ObjectNode[processes];
        List<Thread> readers = new ArrayList<>();
        for (int i = 0; i < processes; i++) {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx1g", "-Dsim.startAt=" + startAt, "-cp", System.getProperty("java.class.path"),
                    DeviceSimulator.class.getName()));
            cmd.addAll(List.of(o.forWorker(i, processes)));
            if (o.get("target").equals("drover") && o.get("fleet").isEmpty()) {
                cmd.addAll(List.of("--fleet", fleetFile));
            }
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            ps.add(p);
            int idx = i;
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        if (!line.startsWith("{")) {
                            continue;
                        }
                        ObjectNode n = (ObjectNode) Fleet.JSON.readTree(line);
                        if (n.get("type").asText().equals("result")) {
                            result[idx] = n;
                        } else {
                            last[idx] = n;
                        }
                    }
                } catch (Exception e) {
                    System.err.println("worker " + idx + ": " + e);
                }
            });
            t.start();
            readers.add(t);
        }
        while (ps.stream().anyMatch(Process::isAlive)) {
            Thread.sleep(1000);
            List<ObjectNode> now = new ArrayList<>();
            for (ObjectNode n : last) {
                if (n != null) {
                    now.add(n);
                }
            }
            printProgress(now, windowStart, windowEnd);
        }
        for (Thread t : readers) {
            t.join(10_000);
        }
        List<ObjectNode> out = new ArrayList<>();
        for (int i = 0; i < processes; i++) {
            if (result[i] == null) {
                throw new IllegalStateException("worker " + i + " ended without a result (exit " + ps.get(i).exitValue() + ")");
            }
            out.add(result[i]);
        }
        return out;
    }

    private void printProgress(List<ObjectNode> parts, long windowStart, long windowEnd) {
        long connected = 0;
        long sent = 0;
        long acked = 0;
        long failed = 0;
        for (ObjectNode p : parts) {
            connected += p.get("connected").asLong();
            sent += p.get("sent").asLong();
            acked += p.get("acked").asLong();
            failed += p.get("failed").asLong();
        }
        long now = System.currentTimeMillis();
        String phase = now < windowStart ? "ramp-up" : now < windowEnd ? "measuring " + (now - windowStart) / 1000 + "s" : "draining";
        System.err.printf("[%s] connected %,d  sent %,d  acked %,d  failed %,d  ws frames %,d%n", phase, connected, sent,
                acked, failed, wsFrames.get());
    }

    /** WebSocket subscribers (≤ 1,000 devices a socket) recording publish→delivery latency during the window. */
    private List<AutoCloseable> watch(Options o, Fleet fleet, long windowStart, long windowEnd) throws Exception {
        String wsBase = o.get("api").replaceFirst("^http", "ws") + "/api/v1/ws";
        List<AutoCloseable> out = new ArrayList<>();
        int n = Math.min(o.integer("ws-devices"), fleet.ids().size());
        for (int from = 0; from < n; from += 1000) {
            List<String> ids = fleet.ids().subList(from, Math.min(n, from + 1000));
            WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().header("Authorization", "Bearer " + fleet.tenantKey())
                    .buildAsync(URI.create(wsBase), new WebSocket.Listener() {
                        private final StringBuilder part = new StringBuilder();

                        @Override
                        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                            part.append(data);
                            if (last) {
                                long now = System.currentTimeMillis();
                                try {
                                    JsonNode f = Fleet.JSON.readTree(part.toString());
                                    if (f.path("type").asText().equals("telemetry")) {
                                        for (JsonNode p : f.at("/series/seq")) {
                                            wsFrames.incrementAndGet();
                                            if (now >= windowStart && now < windowEnd) {
                                                wsMillis.recordValue(Math.max(0, now - p.get("ts").asLong()));
                                            }
                                        }
                                    } else if (f.path("type").asText().equals("error")) {
                                        System.err.println("websocket: " + f);
                                    }
                                } catch (Exception e) {
                                    System.err.println("websocket: " + e);
                                }
                                part.setLength(0);
                            }
                            w.request(1);
                            return null;
                        }
                    }).get(10, TimeUnit.SECONDS);
            StringBuilder sub = new StringBuilder("{\"type\":\"subscribe\",\"keys\":[\"seq\"],\"deviceIds\":[");
            for (int i = 0; i < ids.size(); i++) {
                sub.append(i == 0 ? "" : ",").append('"').append(ids.get(i)).append('"');
            }
            ws.sendText(sub.append("]}").toString(), true).get(10, TimeUnit.SECONDS);
            out.add(() -> ws.sendClose(WebSocket.NORMAL_CLOSURE, "done"));
        }
        return out;
    }

    private ObjectNode summarize(Options o, Fleet fleet, List<ObjectNode> results, long windowStart, long windowEnd)
            throws Exception {
        long windowMs = windowEnd - windowStart;
        Histogram puback = new Histogram(3);
        long sent = 0;
        long acked = 0;
        long failed = 0;
        long inWindow = 0;
        long connected = 0;
        long connectFailures = 0;
        long reconnects = 0;
        Map<String, Long> errors = new TreeMap<>();
        for (ObjectNode r : results) {
            puback.add(decode(r.get("histogram").asText()));
            sent += r.get("sent").asLong();
            acked += r.get("acked").asLong();
            failed += r.get("failed").asLong();
            inWindow += r.get("ackedInWindow").asLong();
            connected += r.get("connected").asLong();
            connectFailures += r.get("connectFailures").asLong();
            reconnects += r.path("reconnects").asLong();
            r.get("errors").fields().forEachRemaining(e -> errors.merge(e.getKey(), e.getValue().asLong(), Long::sum));
        }
        ObjectNode s = Fleet.JSON.createObjectNode();
        s.put("target", o.get("target"));
        s.put("mqtt", o.get("mqtt"));
        s.put("mqttVersion", o.get("mqtt-version"));
        s.put("qos", o.integer("qos"));
        s.put("devices", fleet.ids().size());
        s.put("processes", o.integer("processes"));
        s.put("requestedRate", o.integer("rate"));
        s.put("inflightPerDevice", o.integer("inflight"));
        s.put("valuesPerMessage", o.integer("keys") + 1);
        s.put("windowSeconds", windowMs / 1000.0);
        s.put("windowStartEpochMs", windowStart);
        s.put("windowEndEpochMs", windowEnd);
        s.put("connected", connected);
        s.put("connectFailures", connectFailures);
        s.put("reconnects", reconnects);
        s.put("sent", sent);
        s.put("acked", acked);
        s.put("failed", failed);
        s.put("throughputPerSecond", Math.round(inWindow / (windowMs / 1000.0)));
        s.put("errorRate", sent == 0 ? 0 : (double) failed / sent);
        latency(s.putObject("pubackLatencyMs"), puback, 1000.0);
        if (o.get("target").equals("drover") && o.integer("ws-devices") > 0) {
            s.put("wsDevices", Math.min(o.integer("ws-devices"), fleet.ids().size()));
            s.put("wsSamplesReceived", wsFrames.get());
            latency(s.putObject("publishToWebSocketMs"), wsMillis.getIntervalHistogram(), 1.0);
        }
        if (!o.get("target").equals("drover")) {
            s.put("drainedBySubscriber", drained.get());
        }
        ObjectNode e = s.putObject("errors");
        errors.forEach(e::put);
        return s;
    }

    private static void latency(ObjectNode n, Histogram h, double divisor) {
        n.put("count", h.getTotalCount());
        if (h.getTotalCount() == 0) {
            return;
        }
        n.put("p50", h.getValueAtPercentile(50) / divisor);
        n.put("p99", h.getValueAtPercentile(99) / divisor);
        n.put("max", h.getMaxValue() / divisor);
        n.put("mean", Math.round(h.getMean() / divisor * 1000) / 1000.0);
    }
}
