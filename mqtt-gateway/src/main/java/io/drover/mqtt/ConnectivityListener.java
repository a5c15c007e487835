package io.drover.mqtt;

import com.hivemq.extension.sdk.api.events.client.ClientLifecycleEventListener;
import com.hivemq.extension.sdk.api.events.client.parameters.AuthenticationSuccessfulInput;
import com.hivemq.extension.sdk.api.events.client.parameters.ClientInitiatedDisconnectInput;
import com.hivemq.extension.sdk.api.events.client.parameters.ConnectionLostInput;
import com.hivemq.extension.sdk.api.events.client.parameters.ConnectionStartInput;
import com.hivemq.extension.sdk.api.events.client.parameters.DisconnectEventInput;
import com.hivemq.extension.sdk.api.events.client.parameters.ServerInitiatedDisconnectInput;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.shard.DeviceClient;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Tells the twin when its device's session starts and ends. Each connection gets a session id, kept
 * in the connection's attribute store, so a late "disconnected" of an old session never marks a
 * reconnected device offline. A device the twin refuses (it was suspended meanwhile, or the credential the
 * session authenticated with is no longer the device's: rotated, or a node's cache was stale) is kicked.
 */
final class ConnectivityListener implements ClientLifecycleEventListener {

    private static final String SESSION = "drover.session";
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ConnectivityListener.class);

    private final DeviceClient devices;
    private final ActorRef<Device.Outbound> courier;
    private final String node;
    private final MqttMetrics metrics;

    ConnectivityListener(DeviceClient devices, ActorRef<Device.Outbound> courier, String node, MqttMetrics metrics) {
        this.devices = devices;
        this.metrics = metrics;
        this.courier = courier;
        this.node = node;
    }

    @Override
    public void onMqttConnectionStart(ConnectionStartInput input) {
        // recorded once authenticated
    }

    @Override
    public void onAuthenticationSuccessful(AuthenticationSuccessfulInput input) {
        Optional<DeviceKey> key = DeviceIdentity.fromClientId(input.getClientInformation().getClientId());
        if (key.isEmpty()) {
            return;
        }
        String session = UUID.randomUUID().toString();
        input.getConnectionInformation().getConnectionAttributeStore().putAsString(SESSION, session);
        metrics.session(1);
        Instant at = Instant.now();
        String credential = input.getConnectionInformation().getConnectionAttributeStore()
                .getAsString(DeviceAuthenticator.CREDENTIAL).orElse(null);
        retrying(() -> devices.ask(key.get(), r -> new Device.RecordConnected(session, node, at, credential, r)), 3)
                .thenAccept(reply -> {
                    if (reply instanceof Device.Rejected) {
                        courier.tell(new Device.Kick(key.get(), "refused-by-twin"));
                    }
                });
    }

    @Override
    public void onConnectionLost(ConnectionLostInput input) {
        ended(input, "connection-lost");
    }

    @Override
    public void onClientInitiatedDisconnect(ClientInitiatedDisconnectInput input) {
        ended(input, "client-disconnected");
    }

    @Override
    public void onServerInitiatedDisconnect(ServerInitiatedDisconnectInput input) {
        ended(input, "server-disconnected" + input.getReasonString().map(r -> ": " + r).orElse(""));
    }

    @Override
    public void onDisconnect(DisconnectEventInput input) {
        ended(input, input.getReasonCode().map(c -> c.name().toLowerCase()).orElse("disconnected"));
    }

    /** Connectivity facts are worth a retry: a twin that is restarting or a slow write must not lose them. */
    static <T> CompletionStage<T> retrying(Supplier<CompletionStage<T>> call, int attempts) {
        return call.get().handle((ok, err) -> {
            if (err == null) {
                return CompletableFuture.completedFuture(ok);
            }
            if (attempts <= 1) {
                log.warn("Giving up recording a connectivity change: {}", err.toString());
                return CompletableFuture.<T>failedFuture(err);
            }
            Executor later = CompletableFuture.delayedExecutor(500, TimeUnit.MILLISECONDS);
            return CompletableFuture.supplyAsync(() -> null, later).thenCompose(x -> retrying(call, attempts - 1));
        }).thenCompose(Function.identity());
    }

    private void ended(com.hivemq.extension.sdk.api.parameter.ClientBasedInput input, String reason) {
        Optional<DeviceKey> key = DeviceIdentity.fromClientId(input.getClientInformation().getClientId());
        Optional<String> session = input.getConnectionInformation().getConnectionAttributeStore().getAsString(SESSION);
        if (key.isPresent() && session.isPresent()) {
            metrics.session(-1); // one of the disconnect callbacks per connection
            Instant at = Instant.now();
            retrying(() -> devices.ask(key.get(), r -> new Device.RecordDisconnected(session.get(), reason, at, r)), 3);
        }
    }
}
