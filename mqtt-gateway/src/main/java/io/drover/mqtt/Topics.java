package io.drover.mqtt;

import java.util.Optional;

/**
 * The MQTT topic tree of a device (DESIGN.md §5) and who may use which part, default deny.
 * A device sees only {@code devices/{its own id}/…}; its tenant comes from its authenticated
 * connection, never from the topic, and the broker never routes one device's publish to another
 * device (device→platform and platform→device topics are disjoint), so equal device ids in two
 * tenants cannot meet.
 */
public final class Topics {

    /** What a device→platform topic is for. */
    public enum Inbound { TELEMETRY, SHADOW_REPORTED, SHADOW_GET, COMMAND_RESPONSE, EVENTS }

    /** A parsed inbound topic: its kind and, for command responses, the command id. */
    public record Route(Inbound kind, Optional<String> commandId) {}

    private Topics() {}

    public static String prefix(String deviceId) {
        return "devices/" + deviceId + "/";
    }

    public static String errors(String deviceId) {
        return prefix(deviceId) + "errors";
    }

    public static String shadowDesired(String deviceId) {
        return prefix(deviceId) + "shadow/desired";
    }

    public static String command(String deviceId, String commandId) {
        return prefix(deviceId) + "commands/" + commandId;
    }

    /** Platform → device messages of the device's rules (the rules' publish action). */
    public static String notifications(String deviceId) {
        return prefix(deviceId) + "notifications";
    }

    public static String shadowGetAccepted(String deviceId) {
        return prefix(deviceId) + "shadow/get/accepted";
    }

    /** The route of a topic a device publishes to, if the device may publish there. */
    public static Optional<Route> inbound(String deviceId, String topic) {
        String p = prefix(deviceId);
        if (!topic.startsWith(p)) {
            return Optional.empty();
        }
        String rest = topic.substring(p.length());
        switch (rest) {
            case "telemetry":
                return Optional.of(new Route(Inbound.TELEMETRY, Optional.empty()));
            case "shadow/reported":
                return Optional.of(new Route(Inbound.SHADOW_REPORTED, Optional.empty()));
            case "shadow/get":
                return Optional.of(new Route(Inbound.SHADOW_GET, Optional.empty()));
            case "events":
                return Optional.of(new Route(Inbound.EVENTS, Optional.empty()));
            default:
                break;
        }
        if (rest.startsWith("commands/") && rest.endsWith("/response")) {
            String id = rest.substring("commands/".length(), rest.length() - "/response".length());
            if (!id.isEmpty() && !id.contains("/") && !id.contains("+") && !id.contains("#")) {
                return Optional.of(new Route(Inbound.COMMAND_RESPONSE, Optional.of(id)));
            }
        }
        return Optional.empty();
    }

    /**
     * Whether a device may subscribe to a filter: only its own platform→device topics; the one
     * wildcard allowed is {@code devices/{id}/commands/+}. No {@code #}, no {@code $SYS}, no shared
     * subscriptions.
     */
    public static boolean maySubscribe(String deviceId, String filter) {
        String p = prefix(deviceId);
        if (!filter.startsWith(p)) {
            return false;
        }
        String rest = filter.substring(p.length());
        if (rest.equals("shadow/desired") || rest.equals("shadow/get/accepted") || rest.equals("errors")
                || rest.equals("notifications") || rest.equals("commands/+")) {
            return true;
        }
        if (rest.startsWith("commands/")) {
            String id = rest.substring("commands/".length());
            return !id.isEmpty() && !id.contains("/") && !id.contains("+") && !id.contains("#");
        }
        return false;
    }
}
