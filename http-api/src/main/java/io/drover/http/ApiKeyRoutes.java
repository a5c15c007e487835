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
        return pathPrefix("api-keys", () -> concat(
                pathEnd(() -> concat(
                        get(() -> list(principal)),
                        post(() -> create(principal)))),
                path(segment(), id -> delete(() -> remove(principal, id)))));
    }

    private Route create(Principal principal) {
        return bodies.json(Dtos.CreateApiKey.class, body -> {
            principal.requireAdmin();
            String roleName = body.role() != null ? body.role() : "viewer";
            ApiKey.Role role = ApiKey.Role.fromWire(roleName)
                    .filter(r -> principal.platformAdmin() ? r == ApiKey.Role.PLATFORM_ADMIN : r != ApiKey.Role.PLATFORM_ADMIN)
                    .orElseThrow(() -> ApiProblem.invalidField("role", principal.platformAdmin()
                            ? "platform keys have the role platform-admin"
                            : "role is one of admin, operator, viewer"));
            if (body.name() != null && (body.name().isBlank() || body.name().length() > 200)) {
                throw ApiProblem.invalidField("name", "name is 1 to 200 characters");
            }
            if (body.expiresAt() != null && !body.expiresAt().isAfter(clock.instant())) {
                throw ApiProblem.invalidField("expiresAt", "expiresAt must be in the future");
            }
            return completeWithFuture(metrics.cassandra("api_key_create",
                            () -> keys.issue(principal.tenantId(), role, body.name(), Optional.ofNullable(body.expiresAt())))
                    .thenApply(i -> ApiJson.response(StatusCodes.CREATED,
                            new Dtos.NewApiKey(Dtos.ApiKeyDto.of(i.key()), i.secret()))));
        });
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
