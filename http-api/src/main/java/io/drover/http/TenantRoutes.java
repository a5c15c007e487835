package io.drover.http;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.put;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.drover.device.DeviceKey;
import io.drover.persistence.AccessStore;
import io.drover.persistence.ApiKey;
import io.drover.persistence.Retention;
import io.drover.persistence.RetentionPolicy;
import io.drover.persistence.Tenant;
import java.util.concurrent.CompletionStage;
import java.time.Clock;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code /api/v1/tenants}: platform admins create tenants; each comes with its first admin key. */
public final class TenantRoutes {

    private final AccessStore store;
    private final ApiKeys keys;
    private final ApiMetrics metrics;
    private final Bodies bodies;
    private final Clock clock;
    private final RetentionPolicy retention;

    public TenantRoutes(AccessStore store, ApiKeys keys, RetentionPolicy retention, ApiMetrics metrics, Bodies bodies,
            Clock clock) {
        this.store = store;
        this.retention = retention;
        this.keys = keys;
        this.metrics = metrics;
        this.bodies = bodies;
        this.clock = clock;
    }

    public Route route(Principal principal) {
        return pathPrefix("tenants", () -> concat(
                pathEnd(() -> post(() -> create(principal))),
                path(segment(), id -> get(() -> one(principal, id))),
                path(segment().slash("retention"), id -> concat(
                        get(() -> retention(principal, id)),
                        put(() -> setRetention(principal, id))))));
    }

    private void requireSameTenant(Principal principal, String id) {
        if (!principal.platformAdmin() && !principal.tenantId().equals(id)) {
            throw ApiProblem.notFound("tenant-not-found", "tenant " + id + " does not exist");
        }
    }

    private CompletionStage<Tenant> existing(String id) {
        return metrics.cassandra("tenant_get", () -> store.tenant(id)).thenApply(t -> t
                .orElseThrow(() -> ApiProblem.notFound("tenant-not-found", "tenant " + id + " does not exist")));
    }

    private Route retention(Principal principal, String id) {
        requireSameTenant(principal, id);
        return completeWithFuture(existing(id)
                .thenCompose(t -> metrics.cassandra("tenant_retention_get", () -> store.retention(id)))
                .thenApply(o -> ApiJson.response(StatusCodes.OK, Dtos.RetentionView.of(o, retention.defaults()))));
    }

    private Route setRetention(Principal principal, String id) {
        return bodies.json(Dtos.RetentionDto.class, body -> {
            requireSameTenant(principal, id);
            principal.requireAdmin();
            Retention.Overrides o;
            try {
                o = new Retention.Overrides(body.rawDays(), body.rollup1mDays(), body.rollup1hDays());
            } catch (IllegalArgumentException e) {
                throw ApiProblem.badRequest("invalid-retention", e.getMessage());
            }
            return completeWithFuture(existing(id)
                    .thenCompose(t -> metrics.cassandra("tenant_retention_set", () -> store.setRetention(id, o)))
                    .thenApply(x -> {
                        retention.invalidate(id);
                        return ApiJson.response(StatusCodes.OK, Dtos.RetentionView.of(o, retention.defaults()));
                    }));
        });
    }

    private Route create(Principal principal) {
        return bodies.json(Dtos.CreateTenant.class, body -> {
            requirePlatformAdmin(principal);
            if (body.id() == null || !DeviceKey.TENANT_ID.matcher(body.id()).matches()) {
                throw ApiProblem.invalidField("id", "tenant ids are 1-63 of a-z 0-9 - and start with a letter or digit");
            }
            String name = body.name() != null ? body.name() : body.id();
            if (name.isBlank() || name.length() > 200) {
                throw ApiProblem.invalidField("name", "name is 1 to 200 characters");
            }
            Tenant tenant = new Tenant(body.id(), name, clock.instant());
            return completeWithFuture(metrics.cassandra("tenant_create", () -> store.createTenant(tenant))
                    .thenCompose(created -> created
                            ? keys.issue(tenant.tenantId(), ApiKey.Role.ADMIN, "initial admin", Optional.empty())
                            : completeUnfinished(body.id()))
                    .thenApply(issued -> ApiJson.response(StatusCodes.CREATED, new Dtos.NewTenant(Dtos.TenantDto.of(tenant),
                                    new Dtos.NewApiKey(Dtos.ApiKeyDto.of(issued.key()), issued.secret())))
                            .addHeader(Location.create("/api/v1/tenants/" + tenant.tenantId()))));
        });
    }

    /**
     * The tenant exists already. If it has no key at all, this is the retry of a create whose first admin key was
     * not made (the node or Cassandra failed between the two writes): the key is made now and the create answers
     * 201 as the first would have, so no tenant is ever left without an admin key. Otherwise: 409.
     */
    private CompletionStage<ApiKeys.Issued> completeUnfinished(String id) {
        return metrics.cassandra("api_keys_list", () -> store.keysOf(id)).thenCompose(existingKeys -> {
            if (!existingKeys.isEmpty()) {
                throw new ApiProblem(StatusCodes.CONFLICT, "tenant-exists", "tenant " + id + " exists");
            }
            return keys.issue(id, ApiKey.Role.ADMIN, "initial admin", Optional.empty());
        });
    }

    private Route one(Principal principal, String id) {
        if (!principal.platformAdmin() && !principal.tenantId().equals(id)) {
            throw ApiProblem.notFound("tenant-not-found", "tenant " + id + " does not exist");
        }
        return completeWithFuture(metrics.cassandra("tenant_get", () -> store.tenant(id)).thenApply(t -> t
                .map(x -> ApiJson.response(StatusCodes.OK, Dtos.TenantDto.of(x)))
                .orElseThrow(() -> ApiProblem.notFound("tenant-not-found", "tenant " + id + " does not exist"))));
    }

    private static void requirePlatformAdmin(Principal p) {
        if (!p.platformAdmin()) {
            throw ApiProblem.forbidden("only platform admin keys create tenants");
        }
    }
}
