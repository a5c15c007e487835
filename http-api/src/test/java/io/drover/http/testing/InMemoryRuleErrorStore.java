package io.drover.http.testing;

import io.drover.persistence.RuleErrorStore;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

/** Rule errors in memory, newest first. */
public final class InMemoryRuleErrorStore implements RuleErrorStore {

    private final List<RuleError> errors = new CopyOnWriteArrayList<>();

    @Override
    public CompletionStage<Void> record(RuleError error) {
        errors.add(error);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<List<RuleError>> recent(String tenantId, String ruleId, Instant before, int limit) {
        return CompletableFuture.completedFuture(errors.stream()
                .filter(e -> e.tenantId().equals(tenantId) && e.ruleId().equals(ruleId))
                .filter(e -> before == null || e.at().isBefore(before))
                .sorted(Comparator.comparing(RuleError::at).reversed()).limit(limit).toList());
    }
}
