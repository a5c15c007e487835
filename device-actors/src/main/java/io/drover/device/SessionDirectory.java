package io.drover.device;

import org.apache.pekko.actor.typed.ActorRef;

/**
 * How a twin reaches its device's MQTT session at run time. The journal records only facts ("connected
 * on node N at T"); {@code node} is the cluster member's unique address (host, port and incarnation uid), so
 * a node that restarted is a different node and a session recorded on its previous incarnation is gone.
 *
 * <p>The implementation (shard-config) is node-local: it knows the session couriers of the members through
 * the Receptionist and the membership from the cluster; nothing here crosses the wire.
 */
public interface SessionDirectory {

    /** True while {@code node} is a member of the cluster (not downed, not removed). */
    boolean isLive(String node);

    /**
     * Hands {@code message} to the session courier of {@code node}. When that node is gone the twin is told
     * {@link Device.SessionNodeLost}; a command that no courier can take is reported as not delivered.
     */
    void send(String node, Device.Outbound message, ActorRef<Device.Command> twin);

    /** The twin's device has its session on {@code node}: tell the twin when that member is removed. */
    void watch(String node, ActorRef<Device.Command> twin);

    /** The twin's device is offline now. */
    void unwatch(ActorRef<Device.Command> twin);

    /** No cluster, no sessions: for tests of the twin that do not look at its sessions. */
    SessionDirectory NONE = new SessionDirectory() {
        @Override
        public boolean isLive(String node) {
            return true;
        }

        @Override
        public void send(String node, Device.Outbound message, ActorRef<Device.Command> twin) {}

        @Override
        public void watch(String node, ActorRef<Device.Command> twin) {}

        @Override
        public void unwatch(ActorRef<Device.Command> twin) {}
    };
}
