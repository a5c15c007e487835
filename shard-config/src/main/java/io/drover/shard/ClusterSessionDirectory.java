package io.drover.shard;

import io.drover.device.Device;
import io.drover.device.SessionDirectory;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The node-local {@link SessionDirectory}: the session couriers of all members come from the Receptionist
 * ({@link #COURIER_KEY}), membership from the cluster. One router actor per node keeps which local twins
 * have their device's session on which member, and tells them {@link Device.SessionNodeLost} when that member
 * is removed (downed by the split-brain resolver, left, or replaced by a new incarnation). The map holds only
 * live twins of this node (a stopped twin is dropped on its {@code Terminated}), so it is bounded by them.
 */
public final class ClusterSessionDirectory implements SessionDirectory {

    /** Every node that holds MQTT sessions registers its courier under this key. */
    public static final ServiceKey<Device.Outbound> COURIER_KEY =
            ServiceKey.create(Device.Outbound.class, "drover-session-courier");

    /** Removed members remembered (their incarnations never come back), newest kept. */
    private static final int REMEMBERED_REMOVALS = 1024;
    /**
     * A member that is live but whose courier this node has not seen yet (the Receptionist's listing spreads by
     * gossip, ~1–2 s after a node starts): its messages wait this long, at most this many in all, before a command
     * among them counts as not delivered.
     */
    private static final java.time.Duration COURIER_WAIT = java.time.Duration.ofSeconds(5);
    private static final int MAX_WAITING = 10_000;

    private final Cluster cluster;
    private final ActorRef<Msg> router;

    private ClusterSessionDirectory(ActorSystem<?> system) {
        this.cluster = Cluster.get(system);
        this.router = system.systemActorOf(router(system), "session-directory", Props.empty());
    }

    public static ClusterSessionDirectory start(ActorSystem<?> system) {
        return new ClusterSessionDirectory(system);
    }

    /** A member's identity in the journal: address and incarnation ({@code pekko://drover@host:port#uid}). */
    public static String nodeId(UniqueAddress a) {
        return a.address() + "#" + a.longUid();
    }

    /** This node's identity, as sessions it holds are recorded. */
    public static String selfNode(ActorSystem<?> system) {
        return nodeId(Cluster.get(system).selfMember().uniqueAddress());
    }

    @Override
    public boolean isLive(String node) {
        for (Member m : cluster.state().getMembers()) {
            if (nodeId(m.uniqueAddress()).equals(node)) {
                return m.status() != MemberStatus.down() && m.status() != MemberStatus.removed();
            }
        }
        return false;
    }

    @Override
    public void send(String node, Device.Outbound message, ActorRef<Device.Command> twin) {
        router.tell(new Send(node, message, twin));
    }

    @Override
    public void watch(String node, ActorRef<Device.Command> twin) {
        router.tell(new Watch(node, twin));
    }

    @Override
    public void unwatch(ActorRef<Device.Command> twin) {
        router.tell(new Unwatch(twin));
    }

    // ---------------------------------------------------------------- the router

    private sealed interface Msg {}

    private record Send(String node, Device.Outbound message, ActorRef<Device.Command> twin) implements Msg {}

    private record Watch(String node, ActorRef<Device.Command> twin) implements Msg {}

    private record Unwatch(ActorRef<Device.Command> twin) implements Msg {}

    private record Couriers(Receptionist.Listing listing) implements Msg {}

    private record Removed(ClusterEvent.MemberRemoved event) implements Msg {}

    private enum Retry implements Msg { TICK }

    private record Waiting(Send send, long deadlineNanos) {}

    private Behavior<Msg> router(ActorSystem<?> system) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            Address self = cluster.selfMember().address();
            ActorRef<Device.Reply> nobody = system.ignoreRef();
            Map<Address, ActorRef<Device.Outbound>> couriers = new HashMap<>();
            Map<String, Set<ActorRef<Device.Command>>> twinsByNode = new HashMap<>();
            Map<ActorRef<Device.Command>, String> nodeOfTwin = new HashMap<>();
            Set<String> removed = new LinkedHashSet<>();
            system.receptionist().tell(Receptionist.subscribe(COURIER_KEY,
                    ctx.messageAdapter(Receptionist.Listing.class, Couriers::new)));
            cluster.subscriptions().tell(Subscribe.create(
                    ctx.messageAdapter(ClusterEvent.MemberRemoved.class, Removed::new), ClusterEvent.MemberRemoved.class));
            java.util.function.Predicate<String> live = node -> !removed.contains(node) && isLive(node);
            java.util.List<Waiting> waiting = new java.util.ArrayList<>();
            java.util.function.Consumer<Send> undeliverable = m -> {
                if (m.message() instanceof Device.DeliverCommand d) {
                    m.twin().tell(new Device.RecordCommandDelivery(d.command().id(), false,
                            "no MQTT session courier on " + m.node(), Instant.now(), nobody));
                } else {
                    ctx.getLog().debug("No session courier on {} for {}", m.node(), m.message().getClass().getSimpleName());
                }
            };
            // delivers what can be delivered now; true when the message is done with (delivered, lost or failed)
            java.util.function.BiPredicate<Send, Boolean> attempt = (m, giveUp) -> {
                if (!live.test(m.node())) {
                    m.twin().tell(new Device.SessionNodeLost(m.node(), nobody));
                    return true;
                }
                ActorRef<Device.Outbound> courier = couriers.get(addressOf(m.node()));
                if (courier != null) {
                    courier.tell(m.message());
                    return true;
                }
                if (giveUp) {
                    undeliverable.accept(m);
                    return true;
                }
                return false;
            };
            java.util.function.Consumer<ActorRef<Device.Command>> forget = twin -> {
                String node = nodeOfTwin.remove(twin);
                if (node != null) {
                    Set<ActorRef<Device.Command>> twins = twinsByNode.get(node);
                    if (twins != null && twins.remove(twin) && twins.isEmpty()) {
                        twinsByNode.remove(node);
                    }
                }
            };
            return Behaviors.receive(Msg.class)
                    .onMessage(Send.class, m -> {
                        if (!attempt.test(m, waiting.size() >= MAX_WAITING)) {
                            waiting.add(new Waiting(m, System.nanoTime() + COURIER_WAIT.toNanos()));
                            if (!timers.isTimerActive(Retry.TICK)) {
                                timers.startTimerWithFixedDelay(Retry.TICK, java.time.Duration.ofMillis(250));
                            }
                        }
                        return Behaviors.same();
                    })
                    .onMessage(Retry.class, t -> {
                        long now = System.nanoTime();
                        waiting.removeIf(w -> attempt.test(w.send(), now - w.deadlineNanos() > 0));
                        if (waiting.isEmpty()) {
                            timers.cancel(Retry.TICK);
                        }
                        return Behaviors.same();
                    })
                    .onMessage(Watch.class, m -> {
                        if (!live.test(m.node())) {
                            m.twin().tell(new Device.SessionNodeLost(m.node(), nobody));
                            return Behaviors.same();
                        }
                        forget.accept(m.twin());
                        twinsByNode.computeIfAbsent(m.node(), n -> new HashSet<>()).add(m.twin());
                        nodeOfTwin.put(m.twin(), m.node());
                        ctx.watch(m.twin()); // idempotent
                        return Behaviors.same();
                    })
                    .onMessage(Unwatch.class, m -> {
                        forget.accept(m.twin());
                        return Behaviors.same();
                    })
                    .onMessage(Couriers.class, m -> {
                        couriers.clear();
                        for (ActorRef<Device.Outbound> ref : m.listing().getServiceInstances(COURIER_KEY)) {
                            Address a = ref.path().address();
                            couriers.put(a.hasGlobalScope() ? a : self, ref);
                        }
                        waiting.removeIf(w -> attempt.test(w.send(), false));
                        return Behaviors.same();
                    })
                    .onMessage(Removed.class, m -> {
                        String node = nodeId(m.event().member().uniqueAddress());
                        removed.add(node);
                        if (removed.size() > REMEMBERED_REMOVALS) {
                            removed.remove(removed.iterator().next());
                        }
                        Set<ActorRef<Device.Command>> twins = twinsByNode.remove(node);
                        if (twins != null) {
                            ctx.getLog().info("Member {} removed: {} devices of this node's twins go offline", node, twins.size());
                            for (ActorRef<Device.Command> twin : twins) {
                                nodeOfTwin.remove(twin);
                                twin.tell(new Device.SessionNodeLost(node, nobody));
                            }
                        }
                        return Behaviors.same();
                    })
                    .onSignal(Terminated.class, t -> {
                        forget.accept(t.getRef().unsafeUpcast());
                        return Behaviors.same();
                    })
                    .build();
        }));
    }

    /** The address part of a node id (without the incarnation uid). */
    private static Address addressOf(String node) {
        int hash = node.lastIndexOf('#');
        return org.apache.pekko.actor.AddressFromURIString.parse(hash < 0 ? node : node.substring(0, hash));
    }
}
