package io.drover.http;

import java.util.List;

/**
 * The fixed set of route templates that label HTTP metrics: a request is counted under the template its path
 * matches ({@code {id}} stands for any one segment, a literal segment wins over it), or under {@code other}, so no
 * path a client sends — unauthenticated ones included — adds a series, and no id (device, command, rule) appears in
 * {@code /metrics}. A new route adds its template here; {@code RouteTemplatesTest} checks that every route the
 * service answers has one.
 */
final class RouteTemplates {

    static final String OTHER = "other";

    static final List<String> ALL = List.of(
            "/health/alive", "/health/ready", "/metrics", "/api/v1/openapi.json", "/api/docs", "/api/docs/{id}", "/api/v1/me", "/api/v1/fleet/summary", "/api/v1/fleet/positions",
            "/", "/console/{id}", "/console/lib/{id}", "/console/vendor/{id}",
            "/api/v1/device-api/telemetry", "/api/v1/device-api/shadow/reported",
            "/api/v1/devices", "/api/v1/devices/{id}",
            "/api/v1/devices/{id}/suspend", "/api/v1/devices/{id}/activate",
            "/api/v1/devices/{id}/credentials/rotate", "/api/v1/devices/{id}/credentials/x509",
            "/api/v1/devices/{id}/shadow", "/api/v1/devices/{id}/shadow/desired",
            "/api/v1/devices/{id}/shadow/delta", "/api/v1/devices/{id}/shadow/history",
            "/api/v1/devices/{id}/commands", "/api/v1/devices/{id}/commands/{id}",
            "/api/v1/devices/{id}/telemetry", "/api/v1/devices/{id}/telemetry/latest",
            "/api/v1/telemetry/latest", "/api/v1/ws",
            "/api/v1/rule-templates", "/api/v1/rules", "/api/v1/rules/test", "/api/v1/rules/{id}",
            "/api/v1/rules/{id}/enable", "/api/v1/rules/{id}/disable", "/api/v1/rules/{id}/versions",
            "/api/v1/rules/{id}/rollback", "/api/v1/rules/{id}/errors",
            "/api/v1/alarms", "/api/v1/alarms/{id}", "/api/v1/alarms/{id}/ack", "/api/v1/alarms/{id}/clear",
            "/api/v1/tenants", "/api/v1/tenants/{id}", "/api/v1/tenants/{id}/retention", "/api/v1/tenants/{id}/api-keys",
            "/api/v1/api-keys", "/api/v1/api-keys/{id}");

    private static final String[][] SEGMENTS = ALL.stream().map(t -> t.substring(1).split("/")).toArray(String[][]::new);

    private RouteTemplates() {}

    /** The template {@code path} matches, or {@link #OTHER}. */
    static String of(String path) {
        String[] parts = (path.startsWith("/") ? path.substring(1) : path).split("/", -1);
        int best = -1;
        int bestLiterals = -1;
        for (int t = 0; t < SEGMENTS.length; t++) {
            String[] seg = SEGMENTS[t];
            if (seg.length != parts.length) {
                continue;
            }
            int literals = 0;
            boolean match = true;
            for (int i = 0; i < seg.length && match; i++) {
                if (seg[i].equals("{id}")) {
                    match = !parts[i].isEmpty();
                } else if (seg[i].equals(parts[i])) {
                    literals++;
                } else {
                    match = false;
                }
            }
            if (match && literals > bestLiterals) {
                best = t;
                bestLiterals = literals;
            }
        }
        return best < 0 ? OTHER : ALL.get(best);
    }
}
