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

    /** May change devices, shadows, commands, rules and alarms: every role but viewer. */
    public boolean canWrite() {
        return role != ApiKey.Role.VIEWER;
    }

    /** May manage API keys: admin and platform admin. */
    public boolean admin() {
        return role == ApiKey.Role.ADMIN || role == ApiKey.Role.PLATFORM_ADMIN;
    }

    public void requireWrite() {
        if (!canWrite()) {
            throw ApiProblem.forbidden("the viewer role can only read");
        }
    }

    public void requireAdmin() {
        if (!admin()) {
            throw ApiProblem.forbidden("this needs the admin role");
        }
    }
}
