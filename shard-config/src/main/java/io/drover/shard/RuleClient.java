package io.drover.shard;

import io.drover.rules.RuleDefinition;
import io.drover.rules.RuleSet;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The typed facade over the tenants' rule sets: each call completes with a view, or fails with {@link Rejected}
 * (the entity's rejection) or a {@code TimeoutException}.
 */
public final class RuleClient {

    /** The rule set refused: {@code code} is stable; {@code field}/{@code position} for invalid rules. */
    public static final class Rejected extends RuntimeException {
        private final RuleSet.Rejected rejection;

        Rejected(RuleSet.Rejected r) {
            super(r.message(), null, false, false);
            this.rejection = r;
        }

        public RuleSet.Rejected rejection() {
            return rejection;
        }
    }

    private final ClusterSharding sharding;
    private final Duration timeout;
    private volatile java.util.function.Consumer<String> changed = t -> {};

    RuleClient(ClusterSharding sharding, Duration timeout) {
        this.sharding = sharding;
        this.timeout = timeout;
    }

    private <T extends RuleSet.Reply> CompletionStage<T> ask(String tenantId,
            Function<ActorRef<RuleSet.Reply>, RuleSet.Command> command, Class<T> expected) {
        return Stages.direct(sharding.entityRefFor(RuleSet.ENTITY_TYPE_KEY, tenantId).ask(command::apply, timeout))
                .thenCompose(r -> {
                    if (expected.isInstance(r)) {
                        return CompletableFuture.completedFuture(expected.cast(r));
                    }
                    if (r instanceof RuleSet.Rejected rej) {
                        return CompletableFuture.failedFuture(new Rejected(rej));
                    }
                    return CompletableFuture.failedFuture(new IllegalStateException("unexpected reply " + r));
                });
    }

    void onChange(java.util.function.Consumer<String> listener) {
        this.changed = listener;
    }

    private CompletionStage<RuleSet.RuleView> changing(String tenantId, CompletionStage<RuleSet.RuleView> change) {
        return change.thenApply(v -> {
            changed.accept(tenantId);
            return v;
        });
    }

    public CompletionStage<RuleSet.RuleView> create(String tenantId, String ruleId, RuleDefinition d, String by) {
        return changing(tenantId, ask(tenantId, r -> new RuleSet.Create(ruleId, d, by, r), RuleSet.RuleDetails.class)
                .thenApply(RuleSet.RuleDetails::rule));
    }

    public CompletionStage<RuleSet.RuleView> update(String tenantId, String ruleId, RuleDefinition d,
            Optional<Integer> expectedVersion, String by) {
        return changing(tenantId, ask(tenantId, r -> new RuleSet.Update(ruleId, d, expectedVersion, by, r),
                RuleSet.RuleDetails.class).thenApply(RuleSet.RuleDetails::rule));
    }

    public CompletionStage<RuleSet.RuleView> setEnabled(String tenantId, String ruleId, boolean enabled, String by) {
        return changing(tenantId, ask(tenantId, r -> new RuleSet.SetEnabled(ruleId, enabled, by, r),
                RuleSet.RuleDetails.class).thenApply(RuleSet.RuleDetails::rule));
    }

    public CompletionStage<RuleSet.RuleView> rollback(String tenantId, String ruleId, int version, String by) {
        return changing(tenantId, ask(tenantId, r -> new RuleSet.Rollback(ruleId, version, by, r),
                RuleSet.RuleDetails.class).thenApply(RuleSet.RuleDetails::rule));
    }

    public CompletionStage<RuleSet.RuleView> delete(String tenantId, String ruleId, String by) {
        return changing(tenantId, ask(tenantId, r -> new RuleSet.Delete(ruleId, by, r), RuleSet.RuleDetails.class)
                .thenApply(RuleSet.RuleDetails::rule));
    }

    public CompletionStage<RuleSet.RuleView> get(String tenantId, String ruleId) {
        return ask(tenantId, r -> new RuleSet.GetRule(ruleId, r), RuleSet.RuleDetails.class)
                .thenApply(RuleSet.RuleDetails::rule);
    }

    public CompletionStage<List<RuleSet.Version>> versions(String tenantId, String ruleId) {
        return ask(tenantId, r -> new RuleSet.GetVersions(ruleId, r), RuleSet.Versions.class)
                .thenApply(RuleSet.Versions::versions);
    }

    public CompletionStage<RuleSet.All> all(String tenantId) {
        return ask(tenantId, RuleSet.GetAll::new, RuleSet.All.class);
    }
}
