package io.drover.node;

import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/** {@link NodeReadiness} as a Pekko Management readiness check ({@code pekko.management.health-checks}). */
public final class ManagementReadiness implements Supplier<CompletionStage<Boolean>> {

    private final NodeReadiness readiness;

    public ManagementReadiness(ActorSystem system) {
        this.readiness = NodeReadiness.get(Adapter.toTyped(system));
    }

    @Override
    public CompletionStage<Boolean> get() {
        return readiness.check().thenApply(c -> c.values().stream().allMatch(Boolean::booleanValue));
    }
}
