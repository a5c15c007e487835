package io.drover.shard;

import io.drover.rules.CompiledRule;
import io.drover.rules.RuleCatalog;
import io.drover.rules.RuleCompiler;
import io.drover.rules.RuleSet;
import io.drover.rules.RuleSyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's {@link RuleCatalog}: a bounded LRU of tenants' compiled enabled rules, each valid for a time to live
 * and dropped at once when the tenant's rule set publishes a change (cluster-wide topic). One load per tenant at a
 * time; a tenant without rules costs one cached empty entry.
 */
public final class ClusterRuleCatalog implements RuleCatalog {

    private static final Logger log = LoggerFactory.getLogger(ClusterRuleCatalog.class);

    private final RuleClient rules;
    private final RuleCompiler compiler;
    private final BoundedCache<String, TenantRules> cache;
    private final ConcurrentHashMap<String, CompletableFuture<TenantRules>> loading = new ConcurrentHashMap<>();

    public ClusterRuleCatalog(RuleClient rules, RuleCompiler compiler, int maxTenants, Duration ttl) {
        this.rules = rules;
        this.compiler = compiler;
        this.cache = new BoundedCache<>(maxTenants, ttl);
    }

    @Override
    public Optional<TenantRules> cached(String tenantId) {
        return cache.get(tenantId);
    }

    @Override
    public CompletionStage<TenantRules> load(String tenantId, long atLeast) {
        Optional<TenantRules> c = cache.get(tenantId);
        if (c.isPresent() && c.get().setVersion() >= atLeast) {
            return CompletableFuture.completedFuture(c.get());
        }
        // Not computeIfAbsent: the reply may already be there when the callback is attached, and a callback that
        // removes the entry from inside computeIfAbsent's own mapping function fails ("recursive update"), leaving a
        // load that never completes.
        CompletableFuture<TenantRules> mine = new CompletableFuture<>();
        CompletableFuture<TenantRules> running = loading.putIfAbsent(tenantId, mine);
        if (running != null) {
            return running;
        }
        rules.all(tenantId).whenComplete((all, err) -> {
            loading.remove(tenantId, mine);
            if (err != null) {
                mine.completeExceptionally(err);
                return;
            }
            try {
                TenantRules compiled = compile(all);
                cache.put(tenantId, compiled);
                mine.complete(compiled);
            } catch (RuntimeException e) {
                mine.completeExceptionally(e);
            }
        });
        return mine;
    }

    /** The tenant's rules changed through this node: the next lookup loads again. */
    public void invalidate(String tenantId) {
        cache.invalidate(tenantId);
    }

    /** A change was published: the next lookup loads again. */
    public void changed(RuleSet.SetChanged change) {
        Optional<TenantRules> c = cache.get(change.tenantId());
        if (c.isPresent() && c.get().setVersion() < change.setVersion()) {
            cache.invalidate(change.tenantId());
        }
    }

    private TenantRules compile(RuleSet.All all) {
        List<CompiledRule> out = new ArrayList<>();
        for (RuleSet.RuleView v : all.rules()) {
            if (!v.definition().isEnabled()) {
                continue;
            }
            try {
                out.add(compiler.compile(v.id(), v.version(), v.definition()));
            } catch (RuleSyntaxException e) {
                // Stored rules were compiled when accepted; a rule a newer node cannot read is skipped, loudly.
                log.error("Rule {} v{} of {} does not compile any more: {}", v.id(), v.version(), all.tenantId(),
                        e.getMessage());
            }
        }
        return new TenantRules(all.tenantId(), all.setVersion(), List.copyOf(out));
    }
}
