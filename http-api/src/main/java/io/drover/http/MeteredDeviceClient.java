package io.drover.http;

import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.shard.DeviceClient;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Times every ask of a twin by command type: for commands that persist, this is dominated by the
 * journal write to Cassandra, so it is the node's view of journal latency.
 */
final class MeteredDeviceClient implements DeviceClient {

    private final DeviceClient real;
    private final ApiMetrics metrics;

    MeteredDeviceClient(DeviceClient real, ApiMetrics metrics) {
        this.real = real;
        this.metrics = metrics;
    }

    @Override
    public java.time.Duration askTimeout() {
        return real.askTimeout();
    }

    @Override
    public CompletionStage<Device.Reply> ask(DeviceKey key, Function<ActorRef<Device.Reply>, Device.Command> command,
            java.time.Duration timeout) {
        AtomicReference<String> name = new AtomicReference<>("unknown");
        long t0 = System.nanoTime();
        return real.ask(key, ref -> {
            Device.Command c = command.apply(ref);
            name.set(c.getClass().getSimpleName());
            return c;
        }, timeout).whenComplete((r, e) -> metrics.twinLatency(name.get(), System.nanoTime() - t0));
    }
}
