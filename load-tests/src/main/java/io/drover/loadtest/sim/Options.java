package io.drover.loadtest.sim;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** The simulator's command line: {@code --name value} pairs with defaults; {@link #usage} lists them. */
final class Options {

    static final Map<String, String[]> DEFAULTS = new LinkedHashMap<>();

    static {
        d("target", "drover", "drover (durable ingest, devices provisioned over REST) or mosquitto (raw QoS pass-through baseline)");
        d("api", "http://127.0.0.1:8080", "Drover's HTTP base URL");
        d("admin-key-file", "data/admin-api-key", "a platform admin key (./drover dev writes it here)");
        d("mqtt", "127.0.0.1:1883", "broker host:port, or a comma-separated list (a cluster): device i connects to broker i mod n "
                + "and, when its connection is lost, reconnects to the next one");
        d("devices", "100", "simulated devices, one MQTT connection each (up to 100k, over --processes)");
        d("processes", "1", "worker JVMs; worker i connects from 127.0.0.(10+i)");
        d("rate", "0", "messages/s over the whole fleet; 0 = as fast as --inflight allows");
        d("inflight", "4", "unacknowledged messages per device at most");
        d("qos", "1", "0 or 1");
        d("keys", "3", "numeric values per message (plus the device's send time as ts)");
        d("pad", "0", "a string value of this many characters added to each message");
        d("duration", "20s", "measured time, after the ramp-up");
        d("ramp-up", "5s", "time over which devices connect and start");
        d("ws-devices", "0", "Drover only: devices watched over the WebSocket, for publish→WebSocket latency");
        d("fleet", "", "file to keep the provisioned fleet in and reuse (Drover)");
        d("out", "", "write the results as JSON to this file");
        d("worker", "", "internal: index/count of a worker process");
        d("mqtt-version", "5", "3 (3.1.1) or 5");
        d("provision-only", "false", "true: create the fleet (--fleet FILE) and stop, no MQTT");
    }

    private static void d(String name, String value, String help) {
        DEFAULTS.put(name, new String[] {value, help});
    }

    private final Map<String, String> values = new LinkedHashMap<>();

    Options(String[] args) {
        DEFAULTS.forEach((k, v) -> values.put(k, v[0]));
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || !DEFAULTS.containsKey(args[i].substring(2)) || i + 1 >= args.length) {
                throw new IllegalArgumentException("unknown or incomplete option " + args[i] + "\n" + usage());
            }
            values.put(args[i].substring(2), args[++i]);
        }
    }

    String get(String name) {
        return values.get(name);
    }

    int integer(String name) {
        return Integer.parseInt(values.get(name));
    }

    Duration duration(String name) {
        String v = values.get(name);
        if (v.endsWith("ms")) {
            return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
        }
        if (v.endsWith("m")) {
            return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
        }
        return Duration.ofSeconds(Long.parseLong(v.endsWith("s") ? v.substring(0, v.length() - 1) : v));
    }

    /** The same options for a worker process. */
    String[] forWorker(int index, int count) {
        java.util.List<String> out = new java.util.ArrayList<>();
        values.forEach((k, v) -> {
            if (!k.equals("worker") && !k.equals("out") && !k.equals("processes") && !v.isEmpty()) {
                out.add("--" + k);
                out.add(v);
            }
        });
        out.add("--worker");
        out.add(index + "/" + count);
        return out.toArray(String[]::new);
    }

    static String usage() {
        StringBuilder b = new StringBuilder("usage: load-tests/simulate.sh [--option value]...\n");
        DEFAULTS.forEach((k, v) -> b.append(String.format("  --%-15s %-22s %s%n", k, v[0].isEmpty() ? "" : v[0], v[1])));
        return b.toString();
    }
}
