package io.drover.persistence;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** The rules' error events: one per failed action (after its retries), newest first, kept for a bounded time. */
public interface RuleErrorStore {

    /**
     * @param input the message (or deadline) that led to the action, as JSON
     * @param deadLetter what a webhook could not deliver (its body), or null
     */
    record RuleError(String tenantId, String ruleId, int ruleVersion, String errorId, Instant at, String deviceId,
            String action, String input, List<String> failures, String deadLetter) {}

    CompletionStage<Void> record(RuleError error);

    /** The newest {@code limit} errors of the rule before {@code before} (null = now), newest first. */
    CompletionStage<List<RuleError>> recent(String tenantId, String ruleId, Instant before, int limit);
}
