package io.drover.rules;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A node's view of the tenants' compiled, enabled rules: a bounded cache reloaded when the tenant's rule set
 * changes (its change topic) and after a time to live. Node-local: every node has one, nothing of it is sent.
 */
public interface RuleCatalog {

    /** The enabled rules of one tenant at one rule-set version. */
    record TenantRules(String tenantId, long setVersion, List<CompiledRule> rules) {

        public boolean isEmpty() {
            return rules.isEmpty();
        }
    }

    /** What this node holds for the tenant now, if anything (no I/O). */
    Optional<TenantRules> cached(String tenantId);

    /** Loads (or returns) the tenant's rules at {@code setVersion} or newer. */
    CompletionStage<TenantRules> load(String tenantId, long atLeast);

    /** A catalog of fixed rules (tests). */
    static RuleCatalog of(TenantRules... tenants) {
        return new RuleCatalog() {
            @Override
            public Optional<TenantRules> cached(String tenantId) {
                for (TenantRules t : tenants) {
                    if (t.tenantId().equals(tenantId)) {
                        return Optional.of(t);
                    }
                }
                return Optional.of(new TenantRules(tenantId, 0, List.of()));
            }

            @Override
            public CompletionStage<TenantRules> load(String tenantId, long atLeast) {
                return CompletableFuture.completedFuture(cached(tenantId).orElseThrow());
            }
        };
    }
}
