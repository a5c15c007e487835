package io.drover.http;

import io.drover.device.Credentials;
import io.drover.persistence.AccessStore;
import io.drover.persistence.ApiKey;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;

/** Issues API keys: a random secret shown once, stored as its hash. */
public final class ApiKeys {

    private final AccessStore store;
    private final Clock clock;

    public ApiKeys(AccessStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    public record Issued(ApiKey key, String secret) {}

    public CompletionStage<Issued> issue(String tenantId, ApiKey.Role role, String name, Optional<Instant> expiresAt) {
        String secret = Credentials.newSecret("drv_");
        ApiKey key = new ApiKey("k-" + UUID.randomUUID(), tenantId, role, name, clock.instant(), expiresAt,
                Credentials.hash(secret));
        return store.createKey(key).thenApply(x -> new Issued(key, secret));
    }

    /** The first platform admin key, when no platform key exists yet (dev mode's first start). */
    public CompletionStage<Optional<Issued>> bootstrapPlatformAdmin() {
        return store.keysOf(ApiKey.PLATFORM_TENANT).thenCompose(keys -> keys.isEmpty()
                ? issue(ApiKey.PLATFORM_TENANT, ApiKey.Role.PLATFORM_ADMIN, "bootstrap", Optional.empty()).thenApply(Optional::of)
                : java.util.concurrent.CompletableFuture.completedFuture(Optional.empty()));
    }
}
