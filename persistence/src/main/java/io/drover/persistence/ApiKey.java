package io.drover.persistence;

import java.time.Instant;
import java.util.Optional;

/**
 * An API key as stored: the secret itself is never kept, only its SHA-256 ({@code keyHash}).
 * Platform admin keys belong to the pseudo-tenant {@link #PLATFORM_TENANT}, which no real tenant id
 * can collide with (tenant ids start with a letter or digit).
 */
public record ApiKey(
        String keyId, String tenantId, Role role, String name, Instant createdAt,
        Optional<Instant> expiresAt, String keyHash) {

    public static final String PLATFORM_TENANT = "_platform";

    public enum Role {
        PLATFORM_ADMIN, ADMIN, OPERATOR, VIEWER;

        public String wire() {
            return name().toLowerCase().replace('_', '-');
        }

        public static Optional<Role> fromWire(String s) {
            for (Role r : values()) {
                if (r.wire().equals(s)) {
                    return Optional.of(r);
                }
            }
            return Optional.empty();
        }
    }

    public boolean expiredAt(Instant now) {
        return expiresAt.map(now::isAfter).orElse(false);
    }
}
