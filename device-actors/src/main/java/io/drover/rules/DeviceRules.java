package io.drover.rules;

import io.drover.device.DeviceKey;
import io.drover.device.TwinFailure;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The single owner of one device's rule state (entity id {@code tenant:device}, sharded like the twin): it runs the
 * device's stored messages through its {@link RuleRuntime} and journals each change of a rule's status (pending since
 * T, active since T, inactive), never the messages. After a kill -9 the survivor that takes the device over recovers
 * those statuses, so a {@code for} that began before the crash fires at its original deadline; windows and previous
 * values start again from the messages that follow (docs/rules.md says what that means).
 *
 * <p>Effects run after the journal write ({@link RuleEffects}); an active rule's alarm is reconciled after recovery
 * (the raise is idempotent), so a crash between the write and the raise loses nothing.
 */
public final class DeviceRules
        extends EventSourcedBehavior<DeviceRules.Command, DeviceRules.Event, DeviceRules.State> {

    public static final EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "DeviceRules");

    // ---------------------------------------------------------------- commands

    public sealed interface Command extends RulesSerializable {}

    /** One stored message: its time and values (numbers as Double, text, booleans). */
    public record Message(long ts, Map<String, Object> values) implements RulesSerializable {}

    /**
     * Stored messages of the device, in the order the hub stored them. {@code setVersion}: the rule-set version the
     * sender saw (the owner loads at least that one). {@code derived}: written by a derive action.
     */
    public record Observe(List<Message> messages, boolean derived, long setVersion, ActorRef<Reply> replyTo)
            implements Command {}

    private record Tick() implements Command {}

    private record RulesLoaded(RuleCatalog.TenantRules rules) implements Command {}

    private record FactsLoaded(RuleRuntime.Facts facts, long at) implements Command {}

    private record LoadFailed(String what, String reason) implements Command {}

    private record RetryLoad() implements Command {}

    // ---------------------------------------------------------------- events (persisted: a public API)

    public sealed interface Event extends RulesSerializable {}

    /** The statuses that changed (or were dropped: rule gone, version reset) and the newest message time. */
    public record StatusesChanged(Map<String, RuleRuntime.RuleStatus> changed, List<String> removed, long lastEvaluated)
            implements Event {}

    public record State(Map<String, RuleRuntime.RuleStatus> statuses, long lastEvaluated) implements RulesSerializable {

        State apply(StatusesChanged e) {
            Map<String, RuleRuntime.RuleStatus> next = new HashMap<>(statuses);
            e.removed().forEach(next::remove);
            next.putAll(e.changed());
            return new State(Map.copyOf(next), Math.max(lastEvaluated, e.lastEvaluated()));
        }
    }

    // ---------------------------------------------------------------- replies

    public sealed interface Reply extends RulesSerializable {}

    /** @param outputs transitions and derived values the messages caused */
    public record Observed(int outputs) implements Reply {}

    // ---------------------------------------------------------------- behavior

    private final DeviceKey key;
    private final RulesSettings settings;
    private final RuleCatalog catalog;
    private final RuleEffects effects;
    private final Clock clock;
    private final ActorContext<Command> ctx;
    private final TimerScheduler<Command> timers;
    private final RuleRuntime runtime;

    private RuleCatalog.TenantRules rules;
    private List<CompiledRule> watched = List.of();
    private boolean needsFacts;
    private RuleRuntime.Facts facts;
    private long factsAt = Long.MIN_VALUE;
    private boolean loading;
    private boolean reconcile;
    /** Wall-clock millis when the newest evaluated message arrived (Long.MIN_VALUE: none since start). */
    private long arrivedAt = Long.MIN_VALUE;
    /** The deadline the timer is armed for (Long.MIN_VALUE: none). */
    private long armedFor = Long.MIN_VALUE;

    public static Behavior<Command> create(String entityId, RulesSettings settings, RuleCatalog catalog,
            RuleEffects effects, Clock clock) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(t -> new DeviceRules(DeviceKey.fromEntityId(entityId), settings,
                catalog, effects, clock, ctx, t)));
    }

    private DeviceRules(DeviceKey key, RulesSettings settings, RuleCatalog catalog, RuleEffects effects, Clock clock,
            ActorContext<Command> ctx, TimerScheduler<Command> timers) {
        super(PersistenceId.of(ENTITY_TYPE_KEY.name(), key.entityId()),
                TwinFailure.BACKOFF);
        this.key = key;
        this.settings = settings;
        this.catalog = catalog;
        this.effects = effects;
        this.clock = clock;
        this.ctx = ctx;
        this.timers = timers;
        this.runtime = new RuleRuntime(settings);
    }

    @Override
    public State emptyState() {
        return new State(Map.of(), Long.MIN_VALUE);
    }

    @Override
    public SignalHandler<State> signalHandler() {
        return TwinFailure.<State>handler(ctx.getSystem(), "rules", (s, sig) -> {
            if (sig instanceof RecoveryCompleted) {
                runtime.restore(s.statuses(), s.lastEvaluated());
                reconcile = s.statuses().values().stream().anyMatch(r -> r.status() == RuleRuntime.Status.ACTIVE);
            }
        });
    }

    /** One dispatching lambda, not Pekko's builder, whose cases every live entity would hold (docs/device-twin.md). */
    @Override
    public CommandHandler<Command, Event, State> commandHandler() {
        // Not the enforced-replies variant: only Observe answers, and loading stashes/unstashes around it.
        return this::handle;
    }

    private Effect<Event, State> handle(State s, Command c) {
        if (c instanceof Observe o) {
            return onObserve(s, o);
        } else if (c instanceof Tick) {
            return ready() ? apply(s, runtime.advance(watched, eventNow()), null) : Effect().none();
        } else if (c instanceof RulesLoaded l) {
            loading = false;
            if (rules == null || l.rules().setVersion() >= rules.setVersion()) {
                rules = l.rules();
                rewatch();
            }
            return Effect().unstashAll();
        } else if (c instanceof FactsLoaded f) {
            loading = false;
            facts = f.facts();
            factsAt = f.at();
            rewatch();
            return Effect().unstashAll();
        } else if (c instanceof LoadFailed f) {
            ctx.getLog().warn("Rules of {} wait: {} could not be loaded ({}); trying again in {}", key,
                    f.what(), f.reason(), settings.factsTtl());
            timers.startSingleTimer("retry-load", new RetryLoad(), settings.factsTtl());
            return Effect().none(); // still loading: messages stay stashed (bounded by the stash)
        } else if (c instanceof RetryLoad) {
            loading = false;
            return Effect().unstashAll(); // the stashed messages load again
        }
        throw new IllegalArgumentException("DeviceRules: unexpected command " + c.getClass().getName());
    }

    private boolean ready() {
        return rules != null && (!needsFacts || facts != null);
    }

    private Effect<Event, State> onObserve(State s, Observe c) {
        if (loading) {
            return Effect().stash();
        }
        if (rules == null || rules.setVersion() < c.setVersion()) {
            loading = true;
            ctx.pipeToSelf(catalog.load(key.tenantId(), c.setVersion()),
                    (r, e) -> e == null ? new RulesLoaded(r) : new LoadFailed("rules", e.toString()));
            return Effect().stash();
        }
        if (needsFacts && (facts == null || clock.millis() - factsAt > settings.factsTtl().toMillis())) {
            loading = true;
            long at = clock.millis();
            ctx.pipeToSelf(effects.facts(key), (f, e) -> e == null ? new FactsLoaded(f, at)
                    : new LoadFailed("device facts", e.toString()));
            return Effect().stash();
        }
        List<Message> ordered = c.messages();
        if (ordered.size() > 1) {
            ordered = new ArrayList<>(ordered);
            ordered.sort(Comparator.comparingLong(Message::ts));
        }
        List<RuleRuntime.Output> out = new ArrayList<>();
        RuleRuntime.Facts f = facts != null ? facts : RuleRuntime.Facts.of(key.deviceId());
        long before = runtime.lastEvaluated();
        for (Message m : ordered) {
            out.addAll(runtime.observe(watched, f, m.ts(), m.values(), c.derived()));
        }
        if (runtime.lastEvaluated() > before) {
            arrivedAt = clock.millis();
        }
        return apply(s, out, c.replyTo());
    }

    /** Which of the tenant's rules watch this device (its id, and type/labels once facts are loaded). */
    private void rewatch() {
        List<CompiledRule> byId = rules.rules().stream().filter(r -> r.watchesById(key.deviceId())).toList();
        needsFacts = byId.stream().anyMatch(CompiledRule::needsFacts);
        if (needsFacts && facts == null) {
            watched = List.of();
            return;
        }
        watched = byId.stream().filter(r -> !r.needsFacts() || facts != null
                && r.watches(key.deviceId(), facts.type(), facts.labels())).toList();
        if (reconcile) {
            reconcile = false;
            Map<String, RuleRuntime.RuleStatus> st = runtime.statuses();
            for (CompiledRule r : watched) {
                RuleRuntime.RuleStatus status = st.get(r.id());
                if (status != null && status.status() == RuleRuntime.Status.ACTIVE && status.version() == r.version()) {
                    effects.reconcile(key, r, status.since());
                }
            }
        }
    }

    /** Journals what changed, then runs the effects and arms the next deadline. */
    private Effect<Event, State> apply(State s, List<RuleRuntime.Output> out, ActorRef<Reply> replyTo) {
        Reply reply = new Observed(out.size());
        if (!runtime.takeChanged()) {
            // no status moved (the common case: a message that changes nothing): no journal write, no diff
            runEffects(out);
            armDeadline();
            return replyTo == null ? Effect().none() : Effect().reply(replyTo, reply);
        }
        Map<String, RuleRuntime.RuleStatus> now = runtime.statuses();
        Map<String, RuleRuntime.RuleStatus> changed = new HashMap<>();
        now.forEach((id, st) -> {
            if (!st.equals(s.statuses().get(id))) {
                changed.put(id, st);
            }
        });
        List<String> removed = s.statuses().keySet().stream().filter(id -> !now.containsKey(id)).toList();
        boolean evaluatedNewer = runtime.lastEvaluated() > s.lastEvaluated();
        if (changed.isEmpty() && removed.isEmpty()) {
            runEffects(out);
            armDeadline();
            return replyTo == null ? Effect().none() : Effect().reply(replyTo, reply);
        }
        var persisted = Effect().persist(new StatusesChanged(Map.copyOf(changed), removed,
                evaluatedNewer ? runtime.lastEvaluated() : s.lastEvaluated()))
                .thenRun(after -> {
                    runEffects(out);
                    armDeadline();
                });
        return replyTo == null ? persisted : persisted.thenReply(replyTo, after -> reply);
    }

    private void runEffects(List<RuleRuntime.Output> out) {
        for (RuleRuntime.Output o : out) {
            for (CompiledRule r : watched) {
                if (r.id().equals(o.ruleId())) {
                    effects.run(key, r, o);
                    break;
                }
            }
        }
    }

    /**
     * The device's clock as the owner sees it: the newest message's time plus the wall time since it arrived (the
     * wall clock before any message). Deadlines are in message time, so a device whose messages carry past times
     * (a replay, a buffer) has its {@code for} and absence measured in its own time, as the backtest does.
     */
    private long eventNow() {
        long last = runtime.lastEvaluated();
        if (last == Long.MIN_VALUE || arrivedAt == Long.MIN_VALUE) {
            return clock.millis();
        }
        return last + Math.max(0, clock.millis() - arrivedAt);
    }

    private void armDeadline() {
        OptionalLong d = runtime.nextDeadline(watched);
        long next = d.orElse(Long.MIN_VALUE);
        if (next == armedFor && timers.isTimerActive("deadline") == d.isPresent()) {
            return; // armed for this deadline already (most messages change none)
        }
        armedFor = next;
        if (d.isPresent()) {
            timers.startSingleTimer("deadline", new Tick(), Duration.ofMillis(Math.max(0, d.getAsLong() - eventNow())));
        } else {
            timers.cancel("deadline");
        }
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState().onEvent(StatusesChanged.class, (State s, StatusesChanged e) -> s.apply(e)).build();
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
    }
}
