package io.drover.device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.pekko.serialization.jackson.JacksonMigration;

/**
 * Shape changes of persisted device types (bound in this module's {@code reference.conf}). Events and snapshots
 * written before a change are read through these.
 *
 * <p>Version 2 of {@link Device.Connected} and of the snapshot {@link Device.State} (2026-12): the session's
 * {@code ActorRef} is no longer journaled — the route to a session is found at run time
 * ({@link SessionDirectory}). Old records lose their {@code session} field; their node string (a plain
 * address then, without incarnation uid) is never a live member, so recovery shows such a device offline.
 */
public final class DeviceMigrations {

    private DeviceMigrations() {}

    /** {@code Connected} v1 → v2: drop {@code session}. */
    public static final class ConnectedV2 extends JacksonMigration {
        @Override
        public int currentVersion() {
            return 2;
        }

        @Override
        public JsonNode transform(int fromVersion, JsonNode json) {
            if (fromVersion < 2 && json instanceof ObjectNode o) {
                o.remove("session");
            }
            return json;
        }
    }

    /** {@code State} (snapshots) v1 → v2: drop {@code connectivity.session}. */
    public static final class StateV2 extends JacksonMigration {
        @Override
        public int currentVersion() {
            return 2;
        }

        @Override
        public JsonNode transform(int fromVersion, JsonNode json) {
            if (fromVersion < 2 && json.get("connectivity") instanceof ObjectNode c) {
                c.remove("session");
            }
            return json;
        }
    }
}
