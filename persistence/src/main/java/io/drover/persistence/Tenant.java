package io.drover.persistence;

import java.time.Instant;

public record Tenant(String tenantId, String name, Instant createdAt) {}
