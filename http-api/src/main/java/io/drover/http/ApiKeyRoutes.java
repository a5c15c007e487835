package io.drover.http;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.drover.persistence.AccessStore;
import io.drover.persistence.ApiKey;
import java.time.Clock;
import java.util.Comparator;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code /api/v1/api-keys}: an admin manages the keys of its own tenant. Secrets are shown once. */
public final class ApiKeyRoutes {

    private final AccessStore store;
    private final ApiKeys keys;
    private final Authenticator auth;
    private final ApiMetrics metrics;
    private final Bodies bodies;
    private final Clock clock;

    public ApiKeyRoutes(AccessStore store, ApiKeys keys, Authenticator auth, ApiMetrics metrics, Bodies bodies, Clock clock) {
        this.store = store;
        this.keys = keys;
        this.auth = auth;
        this.metrics = metrics;
        this.bodies = bodies;
        this.clock = clock;
    }

    public Route route(Principal principal) {
        return concat(
                pathPrefix("api-keys", () -> concat(
                        pathEnd(() -> concat(
                                get(() -> list(principal)),
                                post(() -> create(principal)))),
                        path(segment(), id -> delete(() -> remove(principal, id))))),
                path(segment("tenants").slash(segment()).slash("api-keys"),
                        tenantId -> post(() -> createFor(principal, tenantId))));
    }

    private Route create(Principal principal) {
        return bodies.json(Dtos.CreateApiKey.class, body -> {
            principal.requireAdmin();
            ApiKey.Role role = role(body, principal.platformAdmin());
            return issue(principal.tenantId(), role, body);
        });
    }

    /**
     * {@code POST /tenants/{id}/api-keys}: a platform admin issues a key (admin, operator or viewer) for a tenant —
     * e.g. a new admin key for a tenant whose admins lost theirs.
     */
    private Route createFor(Principal principal, String tenantId) {
        return bodies.json(Dtos.CreateApiKey.class, body -> {
            if (!principal.platformAdmin()) {
                throw ApiProblem.forbidden("only a platform admin issues keys for a tenant");
            }
            ApiKey.Role role = role(body, false);
            return completeWithFuture(metrics.cassandra("tenant_get", () -> store.tenant(tenantId)).thenApply(t -> t
                    .orElseThrow(() -> ApiProblem.notFound("tenant-not-found", "tenant " + tenantId + " does not exist")))
                    .thenCompose(t -> issued(tenantId, role, body)));
        });
    }

    /** The role asked for, checked: platform keys only make platform keys, tenant keys never do. */
    private ApiKey.Role role(Dtos.CreateApiKey body, boolean platform) {
        String roleName = body.role() != null ? body.role() : "viewer";
        ApiKey.Role role = ApiKey.Role.fromWire(roleName)
                .filter(r -> platform ? r == ApiKey.Role.PLATFORM_ADMIN : r != ApiKey.Role.PLATFORM_ADMIN)
                .orElseThrow(() -> ApiProblem.invalidField("role", platform
                        ? "platform keys have the role platform-admin"
                        : "role is one of admin, operator, viewer"));
        if (body.name() != null && (body.name().isBlank() || body.name().length() > 200)) {
            throw ApiProblem.invalidField("name", "name is 1 to 200 characters");
        }
        if (body.expiresAt() != null && !body.expiresAt().isAfter(clock.instant())) {
            throw ApiProblem.invalidField("expiresAt", "expiresAt must be in the future");
        }
        return role;
    }

    private Route issue(String tenantId, ApiKey.Role role, Dtos.CreateApiKey body) {
        return completeWithFuture(issued(tenantId, role, body));
    }

    private java.util.concurrent.CompletionStage<HttpResponse> issued(String tenantId, ApiKey.Role role,
            Dtos.CreateApiKey body) {
        return metrics.cassandra("api_key_create",
                        () -> keys.issue(tenantId, role, body.name(), Optional.ofNullable(body.expiresAt())))
                .thenApply(i -> ApiJson.response(StatusCodes.CREATED,
                        new Dtos.NewApiKey(Dtos.ApiKeyDto.of(i.key()), i.secret())));
    }

    private Route list(Principal principal) {
        principal.requireAdmin();
        return completeWithFuture(metrics.cassandra("api_keys_list", () -> store.keysOf(principal.tenantId()))
                .thenApply(list -> ApiJson.response(StatusCodes.OK, new Dtos.ApiKeyList(list.stream()
                        .sorted(Comparator.comparing(ApiKey::createdAt))
                        .map(Dtos.ApiKeyDto::of).toList()))));
    }

    private Route remove(Principal principal, String keyId) {
        principal.requireAdmin();
        return completeWithFuture(metrics.cassandra("api_key_delete", () -> store.keysOf(principal.tenantId()))
                .thenCompose(list -> {
                    ApiKey key = list.stream().filter(k -> k.keyId().equals(keyId)).findFirst()
                            .orElseThrow(() -> ApiProblem.notFound("api-key-not-found", "API key " + keyId + " does not exist"));
                    return store.deleteKey(principal.tenantId(), keyId).thenApply(deleted -> {
                        auth.forget(key.keyHash());
                        return HttpResponse.create().withStatus(StatusCodes.NO_CONTENT);
                    });
                }));
    }
}
