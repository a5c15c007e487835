package io.drover.persistence;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** Tenants and their API keys. */
public interface AccessStore {

    /** Creates the tenant unless the id is taken; completes with false when it was taken. */
    CompletionStage<Boolean> createTenant(Tenant tenant);

    CompletionStage<Optional<Tenant>> tenant(String tenantId);

    CompletionStage<Void> createKey(ApiKey key);

    CompletionStage<Optional<ApiKey>> keyByHash(String keyHash);

    CompletionStage<List<ApiKey>> keysOf(String tenantId);

    /** A tenant's retention overrides ({@link Retention.Overrides#NONE} when none was set). */
    CompletionStage<Retention.Overrides> retention(String tenantId);

    /** Replaces a tenant's retention overrides. */
    CompletionStage<Void> setRetention(String tenantId, Retention.Overrides overrides);

    /** Deletes a tenant's key; completes with false when the tenant has no such key. */
    CompletionStage<Boolean> deleteKey(String tenantId, String keyId);
}
