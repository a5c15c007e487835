package io.drover.rules;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.drover.device.DeviceKey;
import io.drover.device.TwinFailure;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The alarms of one device and alarm type: one event-sourced entity (entity id {@code tenant:device:type}) whose
 * current <em>instance</em> is the alarm clients see ({@code id = device:type:n}). A raise while it is active is a
 * repeat (the occurrence count goes up), not a second alarm; a raise after it cleared starts instance n+1.
 *
 * <p>Flapping: when {@code flapping.changes} raise/clear changes fall within {@code flapping.window}, the alarm
 * becomes one active, {@code flapping} alarm; the changes after that are counted ({@code flaps}) but not notified,
 * and once no change came for the window it settles in the last state asked for. Every event carries the alarm as
 * it is after the event, which is what the read side writes.
 */
public final class Alarm extends EventSourcedBehaviorWithEnforcedReplies<Alarm.Command, Alarm.Event, Alarm.State> {

    public static final EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "Alarm");
    public static final String CHANGES_TOPIC = "alarm-changes";

    public enum Status {
        ACTIVE, CLEARED
    }

    /** The entity's identity. */
    public record Key(String tenantId, String deviceId, String type) implements RulesSerializable {

        public String entityId() {
            return tenantId + ":" + deviceId + ":" + type;
        }

        public static Key fromEntityId(String entityId) {
            int a = entityId.indexOf(':');
            int b = entityId.lastIndexOf(':');
            return new Key(entityId.substring(0, a), entityId.substring(a + 1, b), entityId.substring(b + 1));
        }

        public DeviceKey device() {
            return new DeviceKey(tenantId, deviceId);
        }

        public String alarmId(long instance) {
            return deviceId + ":" + type + ":" + instance;
        }

        /** {@code device:type:n} of {@code tenant} → the key and the instance, or null when it is no alarm id. */
        public static Instance parseId(String tenantId, String alarmId) {
            String[] p = alarmId.split(":", -1);
            if (p.length != 3 || !DeviceKey.validDeviceId(p[0]) || p[1].isEmpty() || !p[2].matches("[1-9][0-9]{0,17}")) {
                return null;
            }
            return new Instance(new Key(tenantId, p[0], p[1]), Long.parseLong(p[2]));
        }
    }

    public record Instance(Key key, long instance) {}

    /** An alarm as clients see it. */
    public record AlarmView(
            String id, String tenantId, String type, String deviceId, long instance, Severity severity, Status status,
            boolean acknowledged, long occurrences, Instant firstSeenAt, Instant lastSeenAt, Instant clearedAt,
            String clearedBy, Instant ackedAt, String ackedBy, String ruleId, Integer ruleVersion, ObjectNode details,
            boolean flapping, long flaps) implements RulesSerializable {

        AlarmView repeated(Severity s, ObjectNode d, Instant at, String rule, Integer version) {
            return new AlarmView(id, tenantId, type, deviceId, instance, s, status, acknowledged, occurrences + 1,
                    firstSeenAt, at, clearedAt, clearedBy, ackedAt, ackedBy, rule, version, d, flapping, flaps);
        }

        AlarmView cleared(Instant at, String by) {
            return new AlarmView(id, tenantId, type, deviceId, instance, severity, Status.CLEARED, acknowledged,
                    occurrences, firstSeenAt, lastSeenAt, at, by, ackedAt, ackedBy, ruleId, ruleVersion, details, false,
                    flaps);
        }

        AlarmView acked(Instant at, String by) {
            return new AlarmView(id, tenantId, type, deviceId, instance, severity, status, true, occurrences,
                    firstSeenAt, lastSeenAt, clearedAt, clearedBy, at, by, ruleId, ruleVersion, details, flapping, flaps);
        }

        AlarmView flapping(boolean on, Instant at, long extraFlaps) {
            return new AlarmView(id, tenantId, type, deviceId, instance, severity, Status.ACTIVE, acknowledged,
                    occurrences, firstSeenAt, at, null, null, ackedAt, ackedBy, ruleId, ruleVersion, details, on,
                    flaps + extraFlaps);
        }
    }

    // ---------------------------------------------------------------- commands

    public sealed interface Command extends RulesSerializable {}

    /**
     * @param raiseKey identifies the rule's raise (rule id + when its condition began): the same raise again — a
     *     retry, or the rule's owner reconciling after a failover — changes nothing
     */
    public record Raise(String raiseKey, String ruleId, Integer ruleVersion, Severity severity, ObjectNode details,
            Instant at, ActorRef<Reply> replyTo) implements Command {}

    /** @param by {@code rule:<id>} or {@code key:<api key id>}; @param instance null = whatever is current */
    public record Clear(String by, Long instance, Instant at, ActorRef<Reply> replyTo) implements Command {}

    public record Acknowledge(String by, long instance, ActorRef<Reply> replyTo) implements Command {}

    public record Get(ActorRef<Reply> replyTo) implements Command {}

    /** Internal: the flapping window may have gone quiet. */
    private record Settle() implements Command {}

    // ---------------------------------------------------------------- events (persisted: a public API)

    public sealed interface Event extends RulesSerializable {
        AlarmView alarm();
    }

    /** A new instance. */
    public record Raised(AlarmView alarm, String raiseKey, Instant at) implements Event {}

    public record Repeated(AlarmView alarm, String raiseKey, Instant at) implements Event {}

    public record Cleared(AlarmView alarm, Instant at) implements Event {}

    public record Acknowledged(AlarmView alarm, Instant at) implements Event {}

    public record FlappingStarted(AlarmView alarm, Instant at) implements Event {}

    /** A raise or clear while flapping: counted, not notified. {@code active}: what was asked for. */
    public record FlapSuppressed(AlarmView alarm, boolean active, String raiseKey, Instant at) implements Event {}

    public record FlappingEnded(AlarmView alarm, Instant at) implements Event {}

    /** Published after a notified change (not persisted); tenant-scoped by its alarm's tenant. */
    public record Changed(AlarmView alarm) implements RulesSerializable {}

    // ---------------------------------------------------------------- state

    /**
     * @param current the newest instance, or null before the first raise
     * @param changes epoch millis of the recent raise/clear changes (at most flapping.changes)
     * @param wantActive the state last asked for (what flapping settles into)
     */
    public record State(AlarmView current, String raiseKey, List<Long> changes, boolean wantActive, Instant lastChange)
            implements RulesSerializable {

        static State empty() {
            return new State(null, null, List.of(), false, null);
        }

        boolean active() {
            return current != null && current.status() == Status.ACTIVE;
        }
    }

    // ---------------------------------------------------------------- replies

    public sealed interface Reply extends RulesSerializable {}

    public record Details(AlarmView alarm) implements Reply {}

    public enum Rejection {
        NOT_FOUND, NOT_CURRENT
    }

    public record Rejected(Rejection code, String message) implements Reply {}

    // ---------------------------------------------------------------- behavior

    private final Key key;
    private final RulesSettings settings;
    private final Clock clock;
    private final ActorRef<Topic.Command<Changed>> changes;
    private final TimerScheduler<Command> timers;
    private final ActorRef<Command> self;
    private final ActorSystem<?> system;

    public static Behavior<Command> create(String entityId, RulesSettings settings, Clock clock,
            ActorRef<Topic.Command<Changed>> changes) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(t -> new Alarm(Key.fromEntityId(entityId), settings, clock,
                changes != null ? changes : ctx.getSystem().ignoreRef(), t, ctx.getSelf(), ctx.getSystem())));
    }

    private Alarm(Key key, RulesSettings settings, Clock clock, ActorRef<Topic.Command<Changed>> changes,
            TimerScheduler<Command> timers, ActorRef<Command> self, ActorSystem<?> system) {
        // Like the twin: a failed journal write or recovery restarts the alarm after a backoff.
        super(PersistenceId.of(ENTITY_TYPE_KEY.name(), key.entityId()),
                TwinFailure.BACKOFF);
        this.system = system;
        this.key = key;
        this.settings = settings;
        this.clock = clock;
        this.changes = changes;
        this.timers = timers;
        this.self = self;
    }

    @Override
    public State emptyState() {
        return State.empty();
    }

    @Override
    public SignalHandler<State> signalHandler() {
        return TwinFailure.<State>handler(system, "alarm", (s, sig) -> {});
    }

    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                .onCommand(Raise.class, this::onRaise)
                .onCommand(Clear.class, this::onClear)
                .onCommand(Acknowledge.class, this::onAck)
                .onCommand(Get.class, (s, c) -> s.current() == null
                        ? Effect().reply(c.replyTo(), new Rejected(Rejection.NOT_FOUND, "no alarm " + key.entityId()))
                        : Effect().reply(c.replyTo(), new Details(s.current())))
                .onCommand(Settle.class, this::onSettle)
                .build();
    }

    private Duration window() {
        return settings.flappingWindow();
    }

    /** The recent changes with {@code at} added, older than the window dropped. */
    private List<Long> changesWith(State s, Instant at) {
        List<Long> next = new ArrayList<>();
        long from = at.toEpochMilli() - window().toMillis();
        for (Long t : s.changes()) {
            if (t > from) {
                next.add(t);
            }
        }
        next.add(at.toEpochMilli());
        while (next.size() > settings.flappingChanges()) {
            next.remove(0);
        }
        return List.copyOf(next);
    }

    private ReplyEffect<Event, State> onRaise(State s, Raise c) {
        Instant at = c.at() != null ? c.at() : clock.instant();
        if (settleDue(s, at)) {
            return settleThen(s, at, c);
        }
        if (s.current() != null && s.current().flapping()) {
            return flap(s, true, c.raiseKey(), at, c.replyTo());
        }
        if (c.raiseKey() != null && c.raiseKey().equals(s.raiseKey())) {
            // The same raise again (a retry, or the rule's owner reconciling after recovery): nothing changes,
            // and an alarm cleared by hand since is not raised again by it.
            return Effect().reply(c.replyTo(), new Details(s.current()));
        }
        if (s.active()) {
            return persistNotified(new Repeated(s.current().repeated(c.severity(), c.details(), at, c.ruleId(),
                    c.ruleVersion()), c.raiseKey(), at), c.replyTo());
        }
        long n = s.current() == null ? 1 : s.current().instance() + 1;
        AlarmView v = new AlarmView(key.alarmId(n), key.tenantId(), key.type(), key.deviceId(), n, c.severity(),
                Status.ACTIVE, false, 1, at, at, null, null, null, null, c.ruleId(), c.ruleVersion(), c.details(), false, 0);
        if (changesWith(s, at).size() >= settings.flappingChanges()) {
            return persistNotified(new FlappingStarted(v.flapping(true, at, 0), at), c.replyTo());
        }
        return persistNotified(new Raised(v, c.raiseKey(), at), c.replyTo());
    }

    private ReplyEffect<Event, State> onClear(State s, Clear c) {
        Instant at = c.at() != null ? c.at() : clock.instant();
        if (s.current() == null) {
            return Effect().reply(c.replyTo(), new Rejected(Rejection.NOT_FOUND, "no alarm " + key.entityId()));
        }
        if (c.instance() != null && c.instance() != s.current().instance()) {
            return Effect().reply(c.replyTo(), new Rejected(Rejection.NOT_CURRENT,
                    "alarm " + key.alarmId(c.instance()) + " was superseded by " + s.current().id()));
        }
        boolean byRule = c.by() != null && c.by().startsWith("rule:");
        if (settleDue(s, at)) {
            return settleThen(s, at, c);
        }
        if (s.current().flapping() && byRule) {
            return flap(s, false, null, at, c.replyTo());
        }
        if (!s.active()) {
            return Effect().reply(c.replyTo(), new Details(s.current())); // already cleared
        }
        if (byRule && !s.current().flapping() && changesWith(s, at).size() >= settings.flappingChanges()) {
            return persistNotified(new FlappingStarted(s.current().flapping(true, at, 0), at), c.replyTo());
        }
        return persistNotified(new Cleared(s.current().cleared(at, c.by()), at), c.replyTo());
    }

    private ReplyEffect<Event, State> onAck(State s, Acknowledge c) {
        if (s.current() == null || c.instance() > s.current().instance()) {
            return Effect().reply(c.replyTo(), new Rejected(Rejection.NOT_FOUND, "no alarm " + key.alarmId(c.instance())));
        }
        if (c.instance() != s.current().instance()) {
            return Effect().reply(c.replyTo(), new Rejected(Rejection.NOT_CURRENT,
                    "alarm " + key.alarmId(c.instance()) + " was superseded by " + s.current().id()));
        }
        if (s.current().acknowledged()) {
            return Effect().reply(c.replyTo(), new Details(s.current()));
        }
        Instant at = clock.instant();
        return persistNotified(new Acknowledged(s.current().acked(at, c.by()), at), c.replyTo());
    }

    private ReplyEffect<Event, State> flap(State s, boolean active, String raiseKey, Instant at, ActorRef<Reply> replyTo) {
        timers.startSingleTimer("settle", new Settle(), window());
        return Effect().persist(new FlapSuppressed(s.current().flapping(true, at, 1), active, raiseKey, at))
                .thenReply(replyTo, after -> new Details(after.current()));
    }

    /** Flapping, and no change came for the window: it settles before anything else happens to it. */
    private boolean settleDue(State s, Instant at) {
        return s.current() != null && s.current().flapping() && s.lastChange() != null
                && Duration.between(s.lastChange(), at).compareTo(window()) >= 0;
    }

    /**
     * Settles (in the state last asked for), then handles {@code next} on the settled alarm: the entity may have been
     * passivated while its settle timer ran, so a quiet window is also noticed by the next command.
     */
    private ReplyEffect<Event, State> settleThen(State s, Instant at, Command next) {
        AlarmView settled = s.wantActive() ? s.current().flapping(false, at, 0)
                : s.current().cleared(at, "flapping-settled");
        return Effect().persist(new FlappingEnded(settled, at))
                .thenRun(after -> {
                    changes.tell(Topic.publish(new Changed(after.current())));
                    self.tell(next);
                })
                .thenNoReply();
    }

    private ReplyEffect<Event, State> onSettle(State s, Settle c) {
        Instant now = clock.instant();
        if (s.current() == null || !s.current().flapping()) {
            return Effect().noReply();
        }
        Duration quiet = Duration.between(s.lastChange(), now);
        if (quiet.compareTo(window()) < 0) {
            timers.startSingleTimer("settle", new Settle(), window().minus(quiet));
            return Effect().noReply();
        }
        AlarmView settled = s.wantActive() ? s.current().flapping(false, now, 0)
                : s.current().cleared(now, "flapping-settled");
        return Effect().persist(new FlappingEnded(settled, now))
                .thenRun(after -> changes.tell(Topic.publish(new Changed(after.current()))))
                .thenNoReply();
    }

    private ReplyEffect<Event, State> persistNotified(Event e, ActorRef<Reply> replyTo) {
        if (e instanceof FlappingStarted) {
            timers.startSingleTimer("settle", new Settle(), window());
        }
        return Effect().persist(e)
                .thenRun(after -> changes.tell(Topic.publish(new Changed(after.current()))))
                .thenReply(replyTo, after -> new Details(after.current()));
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState().onAnyEvent((State s, Event e) -> apply(s, e));
    }

    private State apply(State s, Event e) {
        if (e instanceof Raised r) {
            return new State(r.alarm(), r.raiseKey(), changesWith(s, r.at()), true, r.at());
        } else if (e instanceof Repeated r) {
            return new State(r.alarm(), r.raiseKey(), s.changes(), true, s.lastChange());
        } else if (e instanceof Cleared c) {
            return new State(c.alarm(), s.raiseKey(), changesWith(s, c.at()), false, c.at());
        } else if (e instanceof Acknowledged a) {
            return new State(a.alarm(), s.raiseKey(), s.changes(), s.wantActive(), s.lastChange());
        } else if (e instanceof FlappingStarted f) {
            return new State(f.alarm(), s.raiseKey(), changesWith(s, f.at()), s.active() ? false : true, f.at());
        } else if (e instanceof FlapSuppressed f) {
            return new State(f.alarm(), f.raiseKey() != null ? f.raiseKey() : s.raiseKey(), s.changes(), f.active(), f.at());
        } else if (e instanceof FlappingEnded f) {
            return new State(f.alarm(), s.raiseKey(), List.of(), f.alarm().status() == Status.ACTIVE, f.at());
        }
        throw new IllegalArgumentException("unknown event " + e.getClass());
    }

    /** One of {@code alarm-0 … alarm-(tags-1)}, by the entity id's hash: fixed once events exist. */
    public static String eventTag(Key key, int tags) {
        return "alarm-" + Math.floorMod(key.entityId().hashCode(), tags);
    }

    public static List<String> eventTags(int tags) {
        List<String> all = new ArrayList<>();
        for (int i = 0; i < tags; i++) {
            all.add("alarm-" + i);
        }
        return all;
    }

    @Override
    public Set<String> tagsFor(Event event) {
        return Set.of(eventTag(key, settings.eventTags()));
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
    }
}
