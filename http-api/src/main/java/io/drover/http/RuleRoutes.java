package io.drover.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.put;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.drover.device.DeviceKey;
import io.drover.persistence.DeviceDirectory;
import io.drover.persistence.RuleErrorStore;
import io.drover.rules.CompiledRule;
import io.drover.rules.RuleCompiler;
import io.drover.rules.RuleDefinition;
import io.drover.rules.RuleRuntime;
import io.drover.rules.RuleSyntaxException;
import io.drover.shard.RuleClient;
import io.drover.telemetry.rules.Backtester;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code /api/v1/rules}: the tenant's rules (every change a version), their versions, rollback, errors, templates,
 * and the backtest ({@code POST /api/v1/rules/test}, no side effects). A rule is checked here with the same compiler
 * the rule set uses, so an invalid one is a 400 {@code invalid-rule} naming the field and the character offset.
 */
public final class RuleRoutes {

    private static final Pattern RULE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    /** Bounds of the backtest and error reads, from {@code drover.http.rules}. */
    public record Settings(int maxBacktestDevices, Duration maxBacktestRange, int maxErrors) {

        static Settings fromConfig(com.typesafe.config.Config root) {
            com.typesafe.config.Config c = root.getConfig("drover.http.rules");
            return new Settings(c.getInt("max-backtest-devices"), c.getDuration("max-backtest-range"),
                    c.getInt("max-errors"));
        }
    }

    private final RuleClient rules;
    private final RuleCompiler compiler;
    private final RuleErrorStore errors;
    private final Backtester backtester;
    private final DeviceDirectory directory;
    private final Bodies bodies;
    private final Settings settings;

    public RuleRoutes(RuleClient rules, RuleCompiler compiler, RuleErrorStore errors, Backtester backtester,
            DeviceDirectory directory, Bodies bodies, Settings settings) {
        this.rules = rules;
        this.compiler = compiler;
        this.errors = errors;
        this.backtester = backtester;
        this.directory = directory;
        this.bodies = bodies;
        this.settings = settings;
    }

    public Route route(Principal principal) {
        return concat(
                path("rule-templates", () -> get(() -> complete(ApiJson.response(StatusCodes.OK, TEMPLATES)))),
                pathPrefix("rules", () -> concat(
                        pathEnd(() -> concat(get(() -> list(principal)), post(() -> create(principal)))),
                        path("test", () -> post(() -> backtest(principal))),
                        pathPrefix(segment(), ruleId -> concat(
                                pathEnd(() -> concat(
                                        get(() -> one(principal, ruleId)),
                                        put(() -> update(principal, ruleId)),
                                        delete(() -> remove(principal, ruleId)))),
                                path("enable", () -> post(() -> enable(principal, ruleId, true))),
                                path("disable", () -> post(() -> enable(principal, ruleId, false))),
                                path("versions", () -> get(() -> versions(principal, ruleId))),
                                path("rollback", () -> post(() -> rollback(principal, ruleId))),
                                path("errors", () -> get(() -> errors(principal, ruleId))))))));
    }

    private static String by(Principal p) {
        return "key:" + p.keyId();
    }

    /** Compiles (and so checks) a definition; an invalid rule is a 400 with field and position. */
    private CompiledRule checked(String id, int version, RuleDefinition d) {
        try {
            return compiler.compile(id, version, d);
        } catch (RuleSyntaxException e) {
            throw invalid(e.field(), e.position(), e.getMessage());
        }
    }

    static ApiProblem invalid(String field, Integer position, String message) {
        Map<String, Object> extra = new HashMap<>();
        if (field != null) {
            extra.put("field", field);
        }
        if (position != null) {
            extra.put("position", position);
        }
        return new ApiProblem(StatusCodes.BAD_REQUEST, "invalid-rule",
                (field != null ? field + ": " : "") + message + (position != null ? " (at " + position + ")" : ""), extra);
    }

    private Route list(Principal principal) {
        String tenant = principal.requireTenant();
        return completeWithFuture(rules.all(tenant).thenApply(all -> ApiJson.response(StatusCodes.OK,
                new RuleDtos.RuleList(all.rules().stream().map(RuleDtos.RuleDto::of).toList()))));
    }

    private Route create(Principal principal) {
        return bodies.json(RuleDtos.RuleBody.class, body -> {
            String tenant = principal.requireTenant();
            principal.requireWrite();
            String id = body.id() != null ? body.id() : "r-" + UUID.randomUUID().toString().substring(0, 13);
            if (!RULE_ID.matcher(id).matches()) {
                throw ApiProblem.invalidField("id", "a rule id is 1-64 letters, digits, '_', '.', '-'");
            }
            RuleDefinition d = body.toDomain();
            checked(id, 1, d);
            return completeWithFuture(rules.create(tenant, id, d, by(principal)).thenApply(v -> ApiJson
                    .response(StatusCodes.CREATED, RuleDtos.RuleDto.of(v))
                    .addHeader(Location.create("/api/v1/rules/" + v.id()))));
        });
    }

    private Route one(Principal principal, String ruleId) {
        String tenant = principal.requireTenant();
        return completeWithFuture(rules.get(tenant, ruleId)
                .thenApply(v -> ApiJson.response(StatusCodes.OK, RuleDtos.RuleDto.of(v))));
    }

    private Route update(Principal principal, String ruleId) {
        return optionalHeaderValueByName("If-Match", ifMatch -> bodies.json(RuleDtos.RuleBody.class, body -> {
            String tenant = principal.requireTenant();
            principal.requireWrite();
            if (body.id() != null && !body.id().equals(ruleId)) {
                throw ApiProblem.invalidField("id", "the body's id must be the path's rule id or absent");
            }
            RuleDefinition d = body.toDomain();
            checked(ruleId, 2, d);
            Optional<Integer> expected = ifMatch.map(v -> {
                try {
                    return Integer.parseInt(v.replace("W/", "").replace("\"", "").trim());
                } catch (NumberFormatException e) {
                    throw new ApiProblem(StatusCodes.PRECONDITION_FAILED, "version-mismatch",
                            "If-Match must carry a rule version");
                }
            });
            return completeWithFuture(rules.update(tenant, ruleId, d, expected, by(principal))
                    .thenApply(v -> ApiJson.response(StatusCodes.OK, RuleDtos.RuleDto.of(v))));
        }));
    }

    private Route remove(Principal principal, String ruleId) {
        String tenant = principal.requireTenant();
        principal.requireWrite();
        return completeWithFuture(rules.delete(tenant, ruleId, by(principal))
                .thenApply(v -> ApiJson.response(StatusCodes.OK, RuleDtos.RuleDto.of(v))));
    }

    private Route enable(Principal principal, String ruleId, boolean on) {
        String tenant = principal.requireTenant();
        principal.requireWrite();
        return completeWithFuture(rules.setEnabled(tenant, ruleId, on, by(principal))
                .thenApply(v -> ApiJson.response(StatusCodes.OK, RuleDtos.RuleDto.of(v))));
    }

    private Route versions(Principal principal, String ruleId) {
        String tenant = principal.requireTenant();
        return completeWithFuture(rules.get(tenant, ruleId).thenCombine(rules.versions(tenant, ruleId), (v, list) ->
                ApiJson.response(StatusCodes.OK, new RuleDtos.VersionList(ruleId, list.stream()
                        .map(x -> new RuleDtos.VersionDto(x.version(), x.change(), x.at(), x.by(),
                                RuleDtos.RuleDto.of(ruleId, x.version(), x.definition(), v.createdAt(), x.at(), x.by())))
                        .toList()))));
    }

    private Route rollback(Principal principal, String ruleId) {
        return parameterOptional("version", version -> {
            String tenant = principal.requireTenant();
            principal.requireWrite();
            int n;
            try {
                n = Integer.parseInt(version.orElseThrow(() -> ApiProblem.invalidField("version",
                        "rollback needs ?version=N")));
            } catch (NumberFormatException e) {
                throw ApiProblem.invalidField("version", "version is a whole number");
            }
            return completeWithFuture(rules.rollback(tenant, ruleId, n, by(principal))
                    .thenApply(v -> ApiJson.response(StatusCodes.OK, RuleDtos.RuleDto.of(v))));
        });
    }

    private Route errors(Principal principal, String ruleId) {
        return parameterOptional("limit", limit -> parameterOptional("before", before -> {
            String tenant = principal.requireTenant();
            int n = limit.map(l -> intIn("limit", l, 1, settings.maxErrors())).orElse(50);
            Instant b = before.map(s -> instant("before", s)).orElse(null);
            // 404 for a rule the tenant does not have, before any read of its errors
            return completeWithFuture(rules.get(tenant, ruleId)
                    .thenCompose(v -> errors.recent(tenant, ruleId, b, n))
                    .thenApply(list -> ApiJson.response(StatusCodes.OK,
                            new RuleDtos.RuleErrorList(list.stream().map(RuleDtos.RuleErrorDto::of).toList()))));
        }));
    }

    private Route backtest(Principal principal) {
        return bodies.json(RuleDtos.BacktestBody.class, body -> {
            String tenant = principal.requireTenant();
            if (body.rule() == null) {
                throw invalid("rule", 0, "expected the rule to test");
            }
            if (body.from() == null || body.to() == null || !body.from().isBefore(body.to())) {
                throw ApiProblem.invalidField("from", "from and to are ISO-8601 instants with from before to");
            }
            if (Duration.between(body.from(), body.to()).compareTo(settings.maxBacktestRange()) > 0) {
                throw ApiProblem.invalidField("to", "a backtest covers at most " + settings.maxBacktestRange());
            }
            CompiledRule rule = checked("test", 0, body.rule().toDomain().withEnabled(true));
            CompletionStage<List<String>> ids = deviceIds(tenant, rule, body.deviceIds());
            return completeWithFuture(ids.thenCompose(list -> backtester.run(tenant, rule, list, body.from(), body.to()))
                    .thenApply(runs -> ApiJson.response(StatusCodes.OK, result(rule, runs))));
        });
    }

    /** The devices to replay: the request's, else the rule's trigger ids, else the tenant's first devices (bounded). */
    private CompletionStage<List<String>> deviceIds(String tenant, CompiledRule rule, List<String> asked) {
        int max = settings.maxBacktestDevices();
        List<String> given = asked != null && !asked.isEmpty() ? asked
                : rule.definition().trigger() != null && rule.definition().trigger().deviceIds() != null
                        && !rule.definition().trigger().deviceIds().isEmpty() ? rule.definition().trigger().deviceIds()
                        : null;
        if (given != null) {
            if (given.size() > max) {
                throw ApiProblem.invalidField("deviceIds", "a backtest replays at most " + max + " devices");
            }
            for (String d : given) {
                if (!DeviceKey.validDeviceId(d)) {
                    throw ApiProblem.invalidField("deviceIds", "not a device id: " + d);
                }
            }
            return CompletableFuture.completedFuture(given.stream().filter(rule::watchesById).toList());
        }
        return directory.list(new DeviceDirectory.Query(tenant, Optional.empty(), max, Optional.empty(), Optional.empty()))
                .thenApply(p -> p.items().stream().map(d -> d.deviceId()).filter(rule::watchesById).toList());
    }

    private static RuleDtos.BacktestResult result(CompiledRule rule, List<Backtester.DeviceRun> runs) {
        List<RuleDtos.BacktestAlarm> alarms = new ArrayList<>();
        List<RuleDtos.BacktestAction> actions = new ArrayList<>();
        Optional<RuleDefinition.Action> alarm = rule.alarm();
        int messages = 0;
        boolean truncated = false;
        for (Backtester.DeviceRun run : runs) {
            messages += run.messages();
            truncated |= run.truncated();
            RuleDtos.BacktestAlarm open = null;
            for (RuleRuntime.Output o : run.outputs()) {
                if (o instanceof RuleRuntime.Derived d) {
                    actions.add(new RuleDtos.BacktestAction(run.deviceId(), "derive", null, Instant.ofEpochMilli(d.ts()),
                            Map.of(d.key(), d.value())));
                    continue;
                }
                RuleRuntime.Transition t = (RuleRuntime.Transition) o;
                boolean raised = t.kind() == RuleRuntime.Kind.RAISED;
                if (!raised && t.kind() != RuleRuntime.Kind.CLEARED) {
                    continue;
                }
                if (alarm.isPresent()) {
                    if (raised) {
                        open = new RuleDtos.BacktestAlarm(run.deviceId(), alarm.get().alarmType(),
                                alarm.get().severity() == null ? "major" : alarm.get().severity(),
                                Instant.ofEpochMilli(t.since()), Instant.ofEpochMilli(t.at()), null, t.values());
                        alarms.add(open);
                    } else if (open != null) {
                        alarms.set(alarms.size() - 1, new RuleDtos.BacktestAlarm(open.deviceId(), open.type(),
                                open.severity(), open.since(), open.raisedAt(), Instant.ofEpochMilli(t.at()), open.values()));
                        open = null;
                    }
                }
                for (var a : rule.actions()) {
                    String type = a.action().type();
                    if (!type.equals("alarm") && !type.equals("derive") && a.onClear() != raised) {
                        actions.add(new RuleDtos.BacktestAction(run.deviceId(), type, raised ? "raise" : "clear",
                                Instant.ofEpochMilli(t.at()), t.values()));
                    }
                }
            }
        }
        return new RuleDtos.BacktestResult(alarms, actions, runs.size(), messages, truncated);
    }

    private static int intIn(String field, String s, int min, int max) {
        try {
            int n = Integer.parseInt(s);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw ApiProblem.invalidField(field, field + " is a whole number from " + min + " to " + max);
    }

    private static Instant instant(String field, String s) {
        try {
            return Instant.parse(s);
        } catch (java.time.format.DateTimeParseException e) {
            throw ApiProblem.invalidField(field, field + " must be an ISO-8601 instant");
        }
    }

    // ---------------------------------------------------------------- templates

    private static RuleDtos.ActionDto alarmAction(String type, String severity) {
        return new RuleDtos.ActionDto("alarm", null, type, severity, null, null, null, null, null, null, null, null, null,
                null, null);
    }

    private static final RuleDtos.TemplateList TEMPLATES = new RuleDtos.TemplateList(List.of(
            new RuleDtos.TemplateDto("threshold", "An alarm while a value is above a limit; it clears below a lower one.",
                    new RuleDtos.RuleBody(null, "temperature above 80", null, null, "temperature > 80",
                            "temperature < 75", null, null, List.of(alarmAction("high-temperature", "major")), null)),
            new RuleDtos.TemplateDto("out-of-range", "An alarm when a value stays outside a range for a duration.",
                    new RuleDtos.RuleBody(null, "pressure out of range for 5 minutes", null, null,
                            "pressure < 1.2 || pressure > 3.5", null, "5m", null,
                            List.of(alarmAction("pressure-out-of-range", "minor")), null)),
            new RuleDtos.TemplateDto("inactivity", "An alarm when a device sends nothing for a duration.",
                    new RuleDtos.RuleBody(null, "silent for 15 minutes", null, null, null, null, null, "15m",
                            List.of(alarmAction("inactive", "warning")), null)),
            new RuleDtos.TemplateDto("rate-of-change", "An alarm when a value changes faster than a rate per second.",
                    new RuleDtos.RuleBody(null, "temperature rising fast", null, null, "rate(temperature) > 0.5", null,
                            "30s", null, List.of(alarmAction("temperature-rising", "warning")), null))));
}
