package io.drover.device;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * This node's instance of the cluster-wide topic {@link Device#CONNECTIVITY_TOPIC}: twins publish to it once a
 * session change is journaled, live sockets subscribe to it (the console's fleet page shows online state from it).
 * Nothing is kept for absent subscribers; a subscriber that misses a change reads it from the device list.
 */
public final class ConnectivityTopic implements Extension {

    public static final ExtensionId<ConnectivityTopic> ID = new ExtensionId<>() {
        @Override
        public ConnectivityTopic createExtension(ActorSystem<?> system) {
            return new ConnectivityTopic(system);
        }
    };

    private final ActorRef<Topic.Command<Device.ConnectivityChanged>> topic;

    private ConnectivityTopic(ActorSystem<?> system) {
        this.topic = system.systemActorOf(Topic.create(Device.ConnectivityChanged.class, Device.CONNECTIVITY_TOPIC),
                "device-connectivity", Props.empty());
    }

    public static ConnectivityTopic get(ActorSystem<?> system) {
        return system.registerExtension(ID); // the existing one when already registered
    }

    public ActorRef<Topic.Command<Device.ConnectivityChanged>> topic() {
        return topic;
    }
}
