package io.drover.http;

import io.drover.persistence.ApiKey;

/** Who is calling: the API key's id, tenant and role. */
public record Principal(String keyId, String tenantId, ApiKey.Role role) {

    public boolean platformAdmin() {
        return role == ApiKey.Role.PLATFORM_ADMIN;
    }

    /** Device and key endpoints act inside one tenant; platform keys have none. */
    public String requireTenant() {
        if (platformAdmin()) {
            throw ApiProblem.forbidden("platform admin keys manage tenants; use a tenant's API key for its devices");
        }
        return tenantId;
    }

    public void requireWrite() {
        if (role == ApiKey.Role.VIEWER) {
            throw ApiProblem.forbidden("the viewer role can only read");
        }
    }

    public void requireAdmin() {
        if (role != ApiKey.Role.ADMIN && role != ApiKey.Role.PLATFORM_ADMIN) {
            throw ApiProblem.forbidden("this needs the admin role");
        }
    }
}
