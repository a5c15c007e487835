package io.drover.mqtt;

import com.hivemq.extension.sdk.api.auth.PublishAuthorizer;
import com.hivemq.extension.sdk.api.auth.SubscriptionAuthorizer;
import com.hivemq.extension.sdk.api.auth.parameter.PublishAuthorizerInput;
import com.hivemq.extension.sdk.api.auth.parameter.PublishAuthorizerOutput;
import com.hivemq.extension.sdk.api.auth.parameter.SubscriptionAuthorizerInput;
import com.hivemq.extension.sdk.api.auth.parameter.SubscriptionAuthorizerOutput;
import com.hivemq.extension.sdk.api.packets.publish.AckReasonCode;
import com.hivemq.extension.sdk.api.packets.subscribe.SubackReasonCode;
import io.drover.device.DeviceKey;
import java.util.Optional;

/**
 * Default deny: a device publishes only to its own device→platform topics and subscribes only to
 * its own platform→device topics ({@link Topics}). A refused publish from an MQTT 3 client
 * disconnects it (MQTT 3 has no negative PUBACK); MQTT 5 clients get NOT_AUTHORIZED. Counted.
 */
final class DeviceAuthorizer implements PublishAuthorizer, SubscriptionAuthorizer {

    private final MqttMetrics metrics;
    private final java.util.function.Consumer<DeviceKey> onDesiredSubscribed;
    private final java.util.function.Consumer<DeviceKey> onCommandsSubscribed;

    /**
     * @param onDesiredSubscribed called when a device subscribes to its desired topic (to catch it up)
     * @param onCommandsSubscribed called when it subscribes to its commands (to hand it queued ones)
     */
    DeviceAuthorizer(MqttMetrics metrics, java.util.function.Consumer<DeviceKey> onDesiredSubscribed,
            java.util.function.Consumer<DeviceKey> onCommandsSubscribed) {
        this.metrics = metrics;
        this.onDesiredSubscribed = onDesiredSubscribed;
        this.onCommandsSubscribed = onCommandsSubscribed;
    }

    @Override
    public void authorizePublish(PublishAuthorizerInput input, PublishAuthorizerOutput output) {
        Optional<DeviceKey> key = DeviceIdentity.fromClientId(input.getClientInformation().getClientId());
        String topic = input.getPublishPacket().getTopic();
        if (key.isPresent() && Topics.inbound(key.get().deviceId(), topic).isPresent()) {
            output.authorizeSuccessfully();
        } else {
            metrics.refused("publish");
            output.failAuthorization(AckReasonCode.NOT_AUTHORIZED, "a device publishes only to its own topics");
        }
    }

    @Override
    public void authorizeSubscribe(SubscriptionAuthorizerInput input, SubscriptionAuthorizerOutput output) {
        Optional<DeviceKey> key = DeviceIdentity.fromClientId(input.getClientInformation().getClientId());
        String filter = input.getSubscription().getTopicFilter();
        if (key.isPresent() && Topics.maySubscribe(key.get().deviceId(), filter)) {
            output.authorizeSuccessfully();
            if (filter.equals(Topics.shadowDesired(key.get().deviceId()))) {
                onDesiredSubscribed.accept(key.get());
            } else if (filter.startsWith(Topics.prefix(key.get().deviceId()) + "commands/")) {
                onCommandsSubscribed.accept(key.get());
            }
        } else {
            metrics.refused("subscribe");
            output.failAuthorization(SubackReasonCode.NOT_AUTHORIZED, "a device subscribes only to its own topics");
        }
    }
}
