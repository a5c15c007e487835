package io.drover.device;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A {@link SessionDirectory} for twin tests: each node's session courier is a probe, and a test can remove a
 * node from the "cluster" ({@link #lose}) the way the real directory reports a removed member.
 */
final class TestSessions implements SessionDirectory {

    final Map<String, TestProbe<Device.Outbound>> couriers = new ConcurrentHashMap<>();
    final Set<String> gone = ConcurrentHashMap.newKeySet();
    final Map<ActorRef<Device.Command>, String> watched = new ConcurrentHashMap<>();
    private final ActorRef<Device.Reply> nobody;

    TestSessions(ActorRef<Device.Reply> nobody) {
        this.nobody = nobody;
    }

    @Override
    public boolean isLive(String node) {
        return !gone.contains(node);
    }

    @Override
    public void send(String node, Device.Outbound message, ActorRef<Device.Command> twin) {
        if (gone.contains(node)) {
            twin.tell(new Device.SessionNodeLost(node, nobody));
            return;
        }
        TestProbe<Device.Outbound> courier = couriers.get(node);
        if (courier != null) {
            courier.ref().tell(message);
        }
    }

    @Override
    public void watch(String node, ActorRef<Device.Command> twin) {
        watched.put(twin, node);
    }

    @Override
    public void unwatch(ActorRef<Device.Command> twin) {
        watched.remove(twin);
    }

    /** The member {@code node} was removed: every twin watching it hears so. */
    void lose(String node) {
        gone.add(node);
        watched.forEach((twin, n) -> {
            if (n.equals(node)) {
                twin.tell(new Device.SessionNodeLost(node, nobody));
            }
        });
    }
}
