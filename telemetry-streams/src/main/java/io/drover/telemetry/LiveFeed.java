package io.drover.telemetry;

import io.drover.persistence.TelemetrySample;
import java.util.List;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.pubsub.DistributedPubSub;
import org.apache.pekko.cluster.pubsub.DistributedPubSubMediator;

/**
 * Cluster-wide live telemetry: one pub-sub topic per device on Pekko's distributed pub-sub (its registry
 * is gossiped, so a subscriber on any node gets what the node holding the device's session stored).
 * Only durable samples are published. A topic without subscribers costs a map lookup on the
 * publishing node; nothing is kept for absent subscribers.
 */
public final class LiveFeed {

    /** What a subscriber receives: one stored message of one device. */
    public record Samples(String tenantId, String deviceId, List<TelemetrySample> samples)
            implements TelemetrySerializable {}

    private final ActorRef mediator;

    public LiveFeed(ActorSystem<?> system) {
        this.mediator = DistributedPubSub.get(Adapter.toClassic(system)).mediator();
    }

    static String topic(String tenantId, String deviceId) {
        return "telemetry:" + tenantId + ":" + deviceId;
    }

    /** Publishes every message the hub stores (its output; a tell per message, so it never slows the hub). */
    public LiveFeed follow(TelemetryHub hub, ActorSystem<?> system) {
        hub.stored().named("live-feed")
                .runForeach(s -> publish(new Samples(s.tenantId(), s.deviceId(), s.samples())), system);
        return this;
    }

    void publish(Samples samples) {
        mediator.tell(new DistributedPubSubMediator.Publish(topic(samples.tenantId(), samples.deviceId()), samples),
                ActorRef.noSender());
    }

    /** {@code subscriber} receives {@link Samples} of the device (and a SubscribeAck, to ignore). */
    public void subscribe(String tenantId, String deviceId, ActorRef subscriber) {
        mediator.tell(new DistributedPubSubMediator.Subscribe(topic(tenantId, deviceId), subscriber), subscriber);
    }

    public void unsubscribe(String tenantId, String deviceId, ActorRef subscriber) {
        mediator.tell(new DistributedPubSubMediator.Unsubscribe(topic(tenantId, deviceId), subscriber), subscriber);
    }
}
