package io.drover.rules;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The rules of one tenant: one event-sourced entity per tenant (entity id = tenant id). Every change — create,
 * update, enable, disable, rollback, delete — is a new immutable version of the rule; the newest
 * {@code versions-kept} versions stay readable. After each change the set's version goes up and
 * {@link SetChanged} is published cluster-wide, so every node's rule catalog reloads the tenant.
 */
public final class RuleSet
        extends EventSourcedBehaviorWithEnforcedReplies<RuleSet.Command, RuleSet.Event, RuleSet.State> {

    public static final EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "RuleSet");
    public static final String CHANGES_TOPIC = "rule-set-changes";

    // ---------------------------------------------------------------- commands

    public sealed interface Command extends RulesSerializable {
        ActorRef<Reply> replyTo();
    }

    /** {@code ruleId} comes from the caller, so a retried create is applied once. */
    public record Create(String ruleId, RuleDefinition definition, String by, ActorRef<Reply> replyTo) implements Command {}

    /** @param expectedVersion when present, applies only if the rule is at that version */
    public record Update(String ruleId, RuleDefinition definition, Optional<Integer> expectedVersion, String by,
            ActorRef<Reply> replyTo) implements Command {}

    public record SetEnabled(String ruleId, boolean enabled, String by, ActorRef<Reply> replyTo) implements Command {}

    /** A new version with the definition of {@code version}. */
    public record Rollback(String ruleId, int version, String by, ActorRef<Reply> replyTo) implements Command {}

    public record Delete(String ruleId, String by, ActorRef<Reply> replyTo) implements Command {}

    public record GetRule(String ruleId, ActorRef<Reply> replyTo) implements Command {}

    public record GetVersions(String ruleId, ActorRef<Reply> replyTo) implements Command {}

    /** Every rule not deleted (enabled or not), and the set's version. */
    public record GetAll(ActorRef<Reply> replyTo) implements Command {}

    // ---------------------------------------------------------------- events (persisted: a public API)

    public sealed interface Event extends RulesSerializable {
        String ruleId();

        Instant at();
    }

    /** @param change create, update, enable, disable or rollback:N */
    public record RuleVersioned(String ruleId, int version, String change, RuleDefinition definition, String by,
            Instant at) implements Event {}

    public record RuleDeleted(String ruleId, int version, String by, Instant at) implements Event {}

    /** Published after every change (not persisted). */
    public record SetChanged(String tenantId, long setVersion) implements RulesSerializable {}

    // ---------------------------------------------------------------- state

    public record Version(int version, String change, RuleDefinition definition, String by, Instant at)
            implements RulesSerializable {}

    /** @param versions newest last, at most {@code versions-kept} */
    public record History(String ruleId, List<Version> versions, boolean deleted, Instant createdAt)
            implements RulesSerializable {

        public Version latest() {
            return versions.get(versions.size() - 1);
        }

        public Optional<Version> version(int n) {
            return versions.stream().filter(v -> v.version() == n).findFirst();
        }
    }

    /** @param rules by id, in creation order; deleted rules stay as tombstones (their id is not reused) */
    public record State(long setVersion, Map<String, History> rules) implements RulesSerializable {

        static State empty() {
            return new State(0, Map.of());
        }

        long live() {
            return rules.values().stream().filter(h -> !h.deleted()).count();
        }

        State apply(Event e, int versionsKept) {
            Map<String, History> next = new LinkedHashMap<>(rules);
            History h = rules.get(e.ruleId());
            if (e instanceof RuleVersioned v) {
                List<Version> versions = new ArrayList<>(h == null ? List.of() : h.versions());
                versions.add(new Version(v.version(), v.change(), v.definition(), v.by(), v.at()));
                while (versions.size() > versionsKept) {
                    versions.remove(0);
                }
                next.put(v.ruleId(), new History(v.ruleId(), List.copyOf(versions), false,
                        h == null ? v.at() : h.createdAt()));
            } else if (e instanceof RuleDeleted d && h != null) {
                next.put(d.ruleId(), new History(d.ruleId(), h.versions(), true, h.createdAt()));
            }
            return new State(setVersion + 1, java.util.Collections.unmodifiableMap(next));
        }
    }

    // ---------------------------------------------------------------- replies

    public sealed interface Reply extends RulesSerializable {}

    public record RuleView(String id, int version, RuleDefinition definition, Instant createdAt, Instant updatedAt,
            String updatedBy) implements RulesSerializable {

        static RuleView of(History h) {
            Version v = h.latest();
            return new RuleView(h.ruleId(), v.version(), v.definition(), h.createdAt(), v.at(), v.by());
        }
    }

    public record RuleDetails(RuleView rule) implements Reply {}

    public record Versions(String ruleId, List<Version> versions) implements Reply {}

    public record All(String tenantId, long setVersion, List<RuleView> rules) implements Reply {}

    public enum Rejection {
        NOT_FOUND, ALREADY_EXISTS, INVALID_RULE, VERSION_MISMATCH, VERSION_NOT_FOUND, TOO_MANY_RULES
    }

    /** @param field, position where an invalid rule went wrong (INVALID_RULE only) */
    public record Rejected(Rejection code, String message, String field, Integer position) implements Reply {
        public Rejected(Rejection code, String message) {
            this(code, message, null, null);
        }
    }

    // ---------------------------------------------------------------- behavior

    private final String tenantId;
    private final RulesSettings settings;
    private final RuleCompiler compiler;
    private final Clock clock;
    private final ActorRef<Topic.Command<SetChanged>> changes;

    public static Behavior<Command> create(String tenantId, RulesSettings settings, Clock clock,
            ActorRef<Topic.Command<SetChanged>> changes) {
        return Behaviors.setup(ctx -> new RuleSet(tenantId, settings, clock,
                changes != null ? changes : ctx.getSystem().ignoreRef()));
    }

    private RuleSet(String tenantId, RulesSettings settings, Clock clock, ActorRef<Topic.Command<SetChanged>> changes) {
        super(PersistenceId.of(ENTITY_TYPE_KEY.name(), tenantId));
        this.tenantId = tenantId;
        this.settings = settings;
        this.compiler = new RuleCompiler(settings);
        this.clock = clock;
        this.changes = changes;
    }

    @Override
    public State emptyState() {
        return State.empty();
    }

    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                .onCommand(Create.class, this::onCreate)
                .onCommand(Update.class, this::onUpdate)
                .onCommand(SetEnabled.class, this::onSetEnabled)
                .onCommand(Rollback.class, this::onRollback)
                .onCommand(Delete.class, this::onDelete)
                .onCommand(GetRule.class, (s, c) -> withRule(s, c.ruleId(), c.replyTo(),
                        h -> Effect().reply(c.replyTo(), new RuleDetails(RuleView.of(h)))))
                .onCommand(GetVersions.class, (s, c) -> withRule(s, c.ruleId(), c.replyTo(),
                        h -> Effect().reply(c.replyTo(), new Versions(h.ruleId(), h.versions()))))
                .onCommand(GetAll.class, (s, c) -> Effect().reply(c.replyTo(), all(s)))
                .build();
    }

    private All all(State s) {
        return new All(tenantId, s.setVersion(), s.rules().values().stream().filter(h -> !h.deleted())
                .map(RuleView::of).toList());
    }

    private ReplyEffect<Event, State> onCreate(State s, Create c) {
        History h = s.rules().get(c.ruleId());
        if (h != null) {
            if (!h.deleted() && h.versions().get(0).version() == 1 && h.versions().get(0).definition().equals(c.definition())) {
                return Effect().reply(c.replyTo(), new RuleDetails(RuleView.of(h))); // the same create again
            }
            return Effect().reply(c.replyTo(), new Rejected(Rejection.ALREADY_EXISTS, "rule " + c.ruleId() + " exists"));
        }
        if (s.live() >= settings.maxRulesPerTenant()) {
            return Effect().reply(c.replyTo(), new Rejected(Rejection.TOO_MANY_RULES,
                    "a tenant may have at most " + settings.maxRulesPerTenant() + " rules"));
        }
        return version(s, c.ruleId(), 1, "create", c.definition(), c.by(), c.replyTo());
    }

    private ReplyEffect<Event, State> onUpdate(State s, Update c) {
        return withRule(s, c.ruleId(), c.replyTo(), h -> {
            int current = h.latest().version();
            if (c.expectedVersion().isPresent() && c.expectedVersion().get() != current) {
                return Effect().reply(c.replyTo(), new Rejected(Rejection.VERSION_MISMATCH,
                        "rule is at version " + current + ", not " + c.expectedVersion().get()));
            }
            return version(s, c.ruleId(), current + 1, "update", c.definition(), c.by(), c.replyTo());
        });
    }

    private ReplyEffect<Event, State> onSetEnabled(State s, SetEnabled c) {
        return withRule(s, c.ruleId(), c.replyTo(), h -> {
            RuleDefinition d = h.latest().definition();
            if (d.isEnabled() == c.enabled()) {
                return Effect().reply(c.replyTo(), new RuleDetails(RuleView.of(h))); // already so: nothing changes
            }
            return version(s, c.ruleId(), h.latest().version() + 1, c.enabled() ? "enable" : "disable",
                    d.withEnabled(c.enabled()), c.by(), c.replyTo());
        });
    }

    private ReplyEffect<Event, State> onRollback(State s, Rollback c) {
        return withRule(s, c.ruleId(), c.replyTo(), h -> h.version(c.version())
                .map(v -> version(s, c.ruleId(), h.latest().version() + 1, "rollback:" + c.version(), v.definition(),
                        c.by(), c.replyTo()))
                .orElseGet(() -> Effect().reply(c.replyTo(), new Rejected(Rejection.VERSION_NOT_FOUND,
                        "version " + c.version() + " of rule " + c.ruleId() + " is not kept (the newest "
                                + settings.versionsKept() + " are)"))));
    }

    private ReplyEffect<Event, State> onDelete(State s, Delete c) {
        return withRule(s, c.ruleId(), c.replyTo(), h -> {
            Instant at = clock.instant();
            return Effect().persist(new RuleDeleted(c.ruleId(), h.latest().version(), c.by(), at))
                    .thenRun(after -> changes.tell(Topic.publish(new SetChanged(tenantId, after.setVersion()))))
                    .thenReply(c.replyTo(), after -> new RuleDetails(RuleView.of(after.rules().get(c.ruleId()))));
        });
    }

    private ReplyEffect<Event, State> version(State s, String ruleId, int version, String change, RuleDefinition d,
            String by, ActorRef<Reply> replyTo) {
        try {
            compiler.compile(ruleId, version, d);
        } catch (RuleSyntaxException e) {
            return Effect().reply(replyTo, new Rejected(Rejection.INVALID_RULE, e.getMessage(), e.field(), e.position()));
        }
        return Effect().persist(new RuleVersioned(ruleId, version, change, d, by, clock.instant()))
                .thenRun(after -> changes.tell(Topic.publish(new SetChanged(tenantId, after.setVersion()))))
                .thenReply(replyTo, after -> new RuleDetails(RuleView.of(after.rules().get(ruleId))));
    }

    private ReplyEffect<Event, State> withRule(State s, String ruleId, ActorRef<Reply> replyTo,
            java.util.function.Function<History, ReplyEffect<Event, State>> f) {
        History h = s.rules().get(ruleId);
        if (h == null || h.deleted()) {
            return Effect().reply(replyTo, new Rejected(Rejection.NOT_FOUND, "no rule " + ruleId));
        }
        return f.apply(h);
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onAnyEvent((s, e) -> s.apply(e, settings.versionsKept()));
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
    }
}
