package io.drover.device;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Optional;
import java.util.TreeSet;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The device twin: one event-sourced entity per device. Its journal holds facts about the device
 * (registered, metadata and credentials changed, lifecycle moves, shadow patches), never telemetry
 * samples. The whole protocol lives here: commands, events, state and replies.
 *
 * <p>Lifecycle: NEW → PROVISIONED → ACTIVE ⇄ SUSPENDED → DECOMMISSIONED (terminal; the id stays
 * taken). A command a lifecycle state cannot take falls through to one handler that rejects it
 * with a stable code.
 */
public final class Device
        extends EventSourcedBehaviorWithEnforcedReplies<Device.Command, Device.Event, Device.State> {

    public static final EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "Device");

    // ---------------------------------------------------------------- lifecycle

    public enum Lifecycle {
        NEW, PROVISIONED, ACTIVE, SUSPENDED, DECOMMISSIONED
    }

    // ---------------------------------------------------------------- commands

    public sealed interface Command extends DeviceSerializable {
        ActorRef<Reply> replyTo();
    }

    public record Register(
            String name, String type, List<String> labels, ObjectNode attributes, ActorRef<Reply> replyTo)
            implements Command {}

    /** Merge-patch of metadata: a null field leaves the value as it is; attributes merge per RFC 7386. */
    public record UpdateMetadata(
            String name, String type, List<String> labels, ObjectNode attributes, ActorRef<Reply> replyTo)
            implements Command {}

    public record RotateCredentials(ActorRef<Reply> replyTo) implements Command {}

    /**
     * The SHA-256 fingerprint (lower-case hex) of the X.509 certificate the device may present over
     * mutual TLS instead of its token; null removes it.
     */
    public record SetCertificate(String fingerprint, ActorRef<Reply> replyTo) implements Command {}

    public record Suspend(ActorRef<Reply> replyTo) implements Command {}

    public record Activate(ActorRef<Reply> replyTo) implements Command {}

    public record Decommission(ActorRef<Reply> replyTo) implements Command {}

    /** @param expectedVersion when present, the update applies only if the shadow is at that version */
    public record UpdateDesired(ObjectNode patch, Optional<Long> expectedVersion, ActorRef<Reply> replyTo)
            implements Command {}

    public record UpdateReported(ObjectNode patch, Optional<Long> expectedVersion, ActorRef<Reply> replyTo)
            implements Command {}

    public record Get(ActorRef<Reply> replyTo) implements Command {}

    /**
     * The broker of {@code node} (a member's unique address, see {@link SessionDirectory}) authenticated the
     * device at {@code at}. Sessions are ordered by {@code at}, not by arrival: an older session's late
     * report does not replace a newer one.
     */
    public record RecordConnected(String sessionId, String node, Instant at, String credential, ActorRef<Reply> replyTo)
            implements Command {

        public RecordConnected(String sessionId, String node, Instant at, ActorRef<Reply> replyTo) {
            this(sessionId, node, at, null, replyTo);
        }

        /** What a session authenticated with, for {@link #credential}: the token's hash. */
        public static String token(String tokenHash) {
            return "token:" + tokenHash;
        }

        /** … or the client certificate's fingerprint. */
        public static String certificate(String fingerprint) {
            return "cert:" + fingerprint;
        }
    }

    /** The member that held the device's session was removed from the cluster (downed, left or restarted). */
    public record SessionNodeLost(String node, ActorRef<Reply> replyTo) implements Command {}

    /** A session ended; ignored unless it is the device's current session (reconnects race). */
    public record RecordDisconnected(String sessionId, String reason, Instant at, ActorRef<Reply> replyTo)
            implements Command {}

    /**
     * Send a command to the device. {@code id} makes it idempotent: the same id again returns the
     * existing command. Non-persistent commands need the device online; persistent ones wait (up to
     * {@code ttl}) and are delivered when it comes back.
     */
    /**
     * @param ttl how long the command may wait to be handed to the device
     * @param answerTimeout two-way: how long after delivery the device may take to answer before the command
     *     expires (null: no limit)
     */
    public record RequestCommand(String id, String name, ObjectNode params, boolean twoWay, boolean persistent,
            Duration ttl, Duration answerTimeout, ActorRef<Reply> replyTo) implements Command {

        public RequestCommand(String id, String name, ObjectNode params, boolean twoWay, boolean persistent,
                Duration ttl, ActorRef<Reply> replyTo) {
            this(id, name, params, twoWay, persistent, ttl, null, replyTo);
        }
    }

    /** A delivered two-way command's answer time ran out (its timer). */
    private record AnswerDue(String id, ActorRef<Reply> replyTo) implements Command {}

    /** Replies once the command reaches one of {@code until} (or its current state after {@code timeout}). */
    public record AwaitCommand(String id, Set<CommandStatus> until, Duration timeout, ActorRef<Reply> replyTo)
            implements Command {}

    public record GetCommand(String id, ActorRef<Reply> replyTo) implements Command {}

    public record ListCommands(ActorRef<Reply> replyTo) implements Command {}

    /** Where the twin's journal ends (its last sequence number): the history reads back from there. */
    public record GetJournalPosition(ActorRef<Reply> replyTo) implements Command {}

    /** From the node holding the session: the command was handed to it, or could not be. */
    public record RecordCommandDelivery(String id, boolean delivered, String reason, Instant at, ActorRef<Reply> replyTo)
            implements Command {}

    /** The device answered on {@code …/commands/{id}/response}; a second answer is ignored. */
    public record RecordCommandResponse(String id, ObjectNode response, Instant at, ActorRef<Reply> replyTo)
            implements Command {}

    /** The device subscribed to its commands: hand it what is pending. */
    public record DeliverPending(ActorRef<Reply> replyTo) implements Command {}

    /** Internal: an {@link AwaitCommand} ran out of time. */
    public record AwaitTimedOut(String id, String waiterId, ActorRef<Reply> replyTo) implements Command {}

    /** Traffic from the device: kept in memory only, never journaled. */
    public record RecordSeen(Instant at, ActorRef<Reply> replyTo) implements Command {}

    public record GetShadow(ActorRef<Reply> replyTo) implements Command {}

    /**
     * Hand {@code body} to the device's session now ({@code …/notifications}: a rule's publish action). Never
     * journaled or queued: an offline device is rejected ({@code DEVICE_OFFLINE}).
     */
    public record Notify(ObjectNode body, ActorRef<Reply> replyTo) implements Command {}

    // ---------------------------------------------------------------- events (persisted: a public API)

    public sealed interface Event extends DeviceSerializable {
        Instant at();
    }

    public record Registered(
            DeviceKey key, String name, String type, List<String> labels, ObjectNode attributes,
            String tokenHash, Instant at) implements Event {}

    public record MetadataUpdated(
            String name, String type, List<String> labels, ObjectNode attributes, Instant at) implements Event {}

    public record CredentialsRotated(String tokenHash, Instant at) implements Event {}

    public record CertificateSet(String fingerprint, Instant at) implements Event {}

    public record Suspended(Instant at) implements Event {}

    public record Activated(Instant at) implements Event {}

    public record Decommissioned(Instant at) implements Event {}

    /** The patch as sent, not the resulting document: replay applies it again. */
    public record DesiredUpdated(ObjectNode patch, long version, Instant at) implements Event {}

    public record ReportedUpdated(ObjectNode patch, long version, Instant at) implements Event {}

    /** Version 2 dropped the session's {@code ActorRef} (see {@link DeviceMigrations}). */
    public record Connected(String sessionId, String node, Instant at) implements Event {}

    public record Disconnected(String sessionId, String reason, Instant at) implements Event {}

    public record CommandRequested(CommandRecord command, Instant at) implements Event {}

    public record CommandDelivered(String id, Instant at) implements Event {}

    public record CommandResponded(String id, ObjectNode response, Instant at) implements Event {}

    public record CommandFailed(String id, String reason, Instant at) implements Event {}

    public record CommandExpired(String id, Instant at) implements Event {}

    // ---------------------------------------------------------------- commands (RPC) to the device

    public enum CommandStatus {
        REQUESTED, DELIVERED, RESPONDED, FAILED, EXPIRED;

        public boolean finished() {
            return this == RESPONDED || this == FAILED || this == EXPIRED;
        }
    }

    /** @param answerTimeout two-way: the time the device has to answer once delivered (null: none; older events) */
    public record CommandRecord(
            String id, String name, ObjectNode params, boolean twoWay, boolean persistent, Instant requestedAt,
            Instant expiresAt, CommandStatus status, Instant deliveredAt, Instant respondedAt, ObjectNode response,
            String failure, Duration answerTimeout) implements DeviceSerializable {

        public CommandRecord(String id, String name, ObjectNode params, boolean twoWay, boolean persistent,
                Instant requestedAt, Instant expiresAt, CommandStatus status, Instant deliveredAt, Instant respondedAt,
                ObjectNode response, String failure) {
            this(id, name, params, twoWay, persistent, requestedAt, expiresAt, status, deliveredAt, respondedAt,
                    response, failure, null);
        }

        CommandRecord with(CommandStatus s, Instant deliveredAt, Instant respondedAt, ObjectNode response, String failure) {
            return new CommandRecord(id, name, params, twoWay, persistent, requestedAt, expiresAt, s, deliveredAt,
                    respondedAt, response, failure, answerTimeout);
        }

        /** Not handed over within its ttl, or (two-way) delivered and not answered within its answer timeout. */
        boolean expiredAt(Instant now) {
            if (status == CommandStatus.REQUESTED) {
                return expiresAt != null && now.isAfter(expiresAt);
            }
            return status == CommandStatus.DELIVERED && twoWay && answerTimeout != null && deliveredAt != null
                    && now.isAfter(deliveredAt.plus(answerTimeout));
        }

        /** Nothing more can happen to it: answered, failed, expired, or a one-way command handed over. */
        public boolean finished() {
            return status.finished() || !twoWay && status == CommandStatus.DELIVERED;
        }
    }

    /**
     * Published cluster-wide (topic {@link #CREDENTIALS_TOPIC}) after anything that decides whether a
     * device may connect changed: registration, token rotation, certificate, lifecycle. Edges that cache
     * those facts drop their entry.
     */
    public record CredentialsChanged(DeviceKey key) implements DeviceSerializable {}

    public static final String CREDENTIALS_TOPIC = "device-credentials";

    /**
     * Published cluster-wide ({@link ConnectivityTopic}) once a session's start or end is journaled; {@code reason}
     * is the disconnect reason (null for a connection).
     */
    public record ConnectivityChanged(DeviceKey key, boolean online, String reason, Instant at) implements DeviceSerializable {}

    public static final String CONNECTIVITY_TOPIC = "device-connectivity";

    // ---------------------------------------------------------------- to the device's session

    /** What the twin sends to the node that holds the device's MQTT session. */
    public sealed interface Outbound extends DeviceSerializable {
        DeviceKey key();
    }

    /** Desired changed (or the device came back) and reported does not match it yet. */
    public record PushDesired(DeviceKey key, long version, ObjectNode delta) implements Outbound {}

    /** Hand a command to the device's session ({@code …/commands/{id}}). */
    public record DeliverCommand(DeviceKey key, CommandRecord command) implements Outbound {}

    /** Publish a rule's notification on {@code devices/{id}/notifications}. */
    public record Notification(DeviceKey key, ObjectNode body) implements Outbound {}

    /** End the device's session: it was suspended, decommissioned or its token rotated. */
    public record Kick(DeviceKey key, String reason) implements Outbound {}

    /** Where the device is connected, as far as the twin knows: facts only, the route is found at run time. */
    public record Connectivity(
            boolean online, String sessionId, String node, Instant lastConnectedAt,
            Instant lastDisconnectedAt, String lastDisconnectReason) implements DeviceSerializable {

        public static final Connectivity NONE = new Connectivity(false, null, null, null, null, null);
    }

    // ---------------------------------------------------------------- state

    /**
     * Immutable: the JSON trees are never changed in place ({@link Shadows} copies), and views hand
     * out copies.
     */
    public record State(
            DeviceKey key,
            Lifecycle lifecycle,
            String name,
            String type,
            List<String> labels,
            ObjectNode attributes,
            String tokenHash,
            Instant createdAt,
            Instant updatedAt,
            Instant credentialsRotatedAt,
            ObjectNode desired,
            ObjectNode reported,
            ObjectNode desiredMetadata,
            ObjectNode reportedMetadata,
            long shadowVersion,
            Instant shadowUpdatedAt,
            Connectivity connectivity,
            List<CommandRecord> commands,
            String certificateFingerprint)
            implements DeviceSerializable {

        /**
         * One empty tree for every new twin's shadow and metadata until its first patch: safe because state's trees
         * are never changed in place (mergePatch and touchMetadata copy, views copy), and it saves each live twin
         * four trees (~320 B).
         */
        private static final ObjectNode NO_TREE = Shadows.empty();

        public static State empty() {
            return new State(null, Lifecycle.NEW, null, null, List.of(), NO_TREE, null, null, null,
                    null, NO_TREE, NO_TREE, NO_TREE, NO_TREE, 0L, null, Connectivity.NONE, List.of(), null);
        }

        /** Applies one event; pure, so the history endpoint replays the journal with it. */
        public State apply(Event event) {
            return apply(event, COMMANDS_KEPT);
        }

        /** As {@link #apply(Event)}, keeping at most {@code commandsKept} commands (the oldest finished go first). */
        public State apply(Event event, int commandsKept) {
            if (event instanceof Registered r) {
                return new State(r.key(), Lifecycle.PROVISIONED, r.name(), r.type(),
                        sortedLabels(r.labels()), r.attributes(), r.tokenHash(), r.at(), r.at(), r.at(),
                        desired, reported, desiredMetadata, reportedMetadata, shadowVersion, shadowUpdatedAt, connectivity, commands, certificateFingerprint);
            } else if (event instanceof MetadataUpdated m) {
                return new State(key, lifecycle, m.name(), m.type(), sortedLabels(m.labels()),
                        m.attributes(), tokenHash, createdAt, m.at(), credentialsRotatedAt, desired, reported,
                        desiredMetadata, reportedMetadata, shadowVersion, shadowUpdatedAt, connectivity, commands, certificateFingerprint);
            } else if (event instanceof CredentialsRotated c) {
                return new State(key, lifecycle, name, type, labels, attributes,
                        c.tokenHash(), createdAt, c.at(), c.at(), desired, reported, desiredMetadata,
                        reportedMetadata, shadowVersion, shadowUpdatedAt, connectivity, commands, certificateFingerprint);
            } else if (event instanceof CertificateSet c) {
                return new State(key, lifecycle, name, type, labels, attributes, tokenHash, createdAt, c.at(), c.at(),
                        desired, reported, desiredMetadata, reportedMetadata, shadowVersion, shadowUpdatedAt,
                        connectivity, commands, c.fingerprint());
            } else if (event instanceof Suspended s) {
                return withLifecycle(Lifecycle.SUSPENDED, s.at());
            } else if (event instanceof Activated a) {
                return withLifecycle(Lifecycle.ACTIVE, a.at());
            } else if (event instanceof Decommissioned d) {
                return withLifecycle(Lifecycle.DECOMMISSIONED, d.at());
            } else if (event instanceof DesiredUpdated d) {
                return new State(key, lifecycle, name, type, labels, attributes, tokenHash,
                        createdAt, updatedAt, credentialsRotatedAt,
                        Shadows.mergePatch(desired, d.patch()), reported,
                        Shadows.touchMetadata(desiredMetadata, d.patch(), d.at().toEpochMilli()),
                        reportedMetadata, d.version(), d.at(), connectivity, commands, certificateFingerprint);
            } else if (event instanceof ReportedUpdated r) {
                return new State(key, lifecycle, name, type, labels, attributes, tokenHash,
                        createdAt, updatedAt, credentialsRotatedAt,
                        desired, Shadows.mergePatch(reported, r.patch()), desiredMetadata,
                        Shadows.touchMetadata(reportedMetadata, r.patch(), r.at().toEpochMilli()),
                        r.version(), r.at(), connectivity, commands, certificateFingerprint);
            } else if (event instanceof Connected c) {
                return withConnectivity(new Connectivity(true, c.sessionId(), c.node(), c.at(),
                        connectivity.lastDisconnectedAt(), connectivity.lastDisconnectReason()));
            } else if (event instanceof Disconnected d) {
                return withConnectivity(new Connectivity(false, d.sessionId(), connectivity.node(),
                        connectivity.lastConnectedAt(), d.at(), d.reason()));
            } else if (event instanceof CommandRequested c) {
                return withCommands(c.command(), null, commandsKept);
            } else if (event instanceof CommandDelivered d) {
                return changedCommand(commandsKept, command(d.id()).map(r -> r.with(CommandStatus.DELIVERED, d.at(), null, null, null))
                        .orElse(null));
            } else if (event instanceof CommandResponded r) {
                return changedCommand(commandsKept, command(r.id()).map(c -> c.with(CommandStatus.RESPONDED,
                        c.deliveredAt() != null ? c.deliveredAt() : r.at(), r.at(), r.response(), null)).orElse(null));
            } else if (event instanceof CommandFailed f) {
                return changedCommand(commandsKept, command(f.id()).map(c -> c.with(CommandStatus.FAILED, c.deliveredAt(), null, null,
                        f.reason())).orElse(null));
            } else if (event instanceof CommandExpired x) {
                return changedCommand(commandsKept, command(x.id()).map(c -> c.with(CommandStatus.EXPIRED, c.deliveredAt(),
                        null, null, c.deliveredAt() == null ? "ttl passed before delivery"
                                : "no answer within " + c.answerTimeout().toSeconds() + " s of delivery")).orElse(null));
            }
            throw new IllegalArgumentException("unknown event " + event.getClass());
        }

        public Optional<CommandRecord> command(String id) {
            return commands.stream().filter(c -> c.id().equals(id)).findFirst();
        }

        /** Commands a twin keeps by default (drover.device.commands-kept); the oldest finished ones go first. */
        public static final int COMMANDS_KEPT = 50;

        private State changedCommand(int kept, CommandRecord changed) {
            return withCommands(null, changed, kept);
        }

        /** Adds {@code added} (newest last) or replaces {@code changed} by id. */
        private State withCommands(CommandRecord added, CommandRecord changed, int kept) {
            List<CommandRecord> next = new java.util.ArrayList<>(commands);
            if (added != null) {
                next.add(added);
                for (int i = 0; next.size() > kept && i < next.size(); ) {
                    if (next.get(i).finished()) {
                        next.remove(i);
                    } else {
                        i++;
                    }
                }
            }
            if (changed != null) {
                next.replaceAll(c -> c.id().equals(changed.id()) ? changed : c);
            }
            return new State(key, lifecycle, name, type, labels, attributes, tokenHash, createdAt, updatedAt,
                    credentialsRotatedAt, desired, reported, desiredMetadata, reportedMetadata, shadowVersion,
                    shadowUpdatedAt, connectivity, List.copyOf(next), certificateFingerprint);
        }

        private State withConnectivity(Connectivity c) {
            return new State(key, lifecycle, name, type, labels, attributes, tokenHash, createdAt, updatedAt,
                    credentialsRotatedAt, desired, reported, desiredMetadata, reportedMetadata, shadowVersion,
                    shadowUpdatedAt, c, commands, certificateFingerprint);
        }

        private State withLifecycle(Lifecycle next, Instant at) {
            return new State(key, next, name, type, labels, attributes, tokenHash, createdAt, at,
                    credentialsRotatedAt, desired, reported, desiredMetadata, reportedMetadata, shadowVersion,
                    shadowUpdatedAt, connectivity, commands, certificateFingerprint);
        }

        public DeviceView view() {
            return view(null);
        }

        public DeviceView view(Instant lastSeenAt) {
            return view(lastSeenAt, connectivity.online());
        }

        /** @param online whether the session is live (false while a lost node's session is being recorded) */
        DeviceView view(Instant lastSeenAt, boolean online) {
            return new DeviceView(key.tenantId(), key.deviceId(), lifecycle, name, type, labels,
                    attributes.deepCopy(), createdAt, updatedAt, credentialsRotatedAt, shadowVersion, tokenHash,
                    new ConnectivityView(online, connectivity.node(), connectivity.lastConnectedAt(),
                            connectivity.lastDisconnectedAt(), connectivity.lastDisconnectReason(),
                            lastSeenAt != null ? lastSeenAt : connectivity.lastConnectedAt()), certificateFingerprint);
        }

        public ShadowView shadowView() {
            return new ShadowView(desired.deepCopy(), reported.deepCopy(), Shadows.delta(desired, reported),
                    desiredMetadata.deepCopy(), reportedMetadata.deepCopy(), shadowVersion, shadowUpdatedAt);
        }
    }

    private static List<String> sortedLabels(List<String> labels) {
        return labels == null ? List.of() : List.copyOf(new TreeSet<>(labels));
    }

    // ---------------------------------------------------------------- replies

    public sealed interface Reply extends DeviceSerializable {}

    public record DeviceDetails(DeviceView device) implements Reply {}

    /** The plain token appears here once (registration, rotation) and nowhere else. */
    public record TokenIssued(DeviceView device, String token) implements Reply {}

    public record JournalPosition(long sequenceNr) implements Reply {}

    public record ShadowDetails(ShadowView shadow) implements Reply {}

    public record Rejected(Rejection code, String message) implements Reply {}

    public record CommandDetails(CommandRecord command) implements Reply {}

    public record CommandList(List<CommandRecord> commands) implements Reply {}

    /** A notification was handed to the node holding the device's session. */
    public record NotificationSent(String node) implements Reply {}

    public enum Rejection {
        NOT_FOUND, ALREADY_EXISTS, DECOMMISSIONED, INVALID_STATE, VERSION_MISMATCH, SHADOW_TOO_LARGE, INVALID_INPUT,
        DEVICE_OFFLINE, TOO_MANY_PENDING, COMMAND_NOT_FOUND, BAD_CREDENTIALS
    }

    public record DeviceView(
            String tenantId, String deviceId, Lifecycle lifecycle, String name, String type, List<String> labels,
            ObjectNode attributes, Instant createdAt, Instant updatedAt, Instant credentialsRotatedAt,
            long shadowVersion, String tokenHash, ConnectivityView connectivity, String certificateFingerprint)
            implements DeviceSerializable {}

    public record ConnectivityView(
            boolean online, String node, Instant lastConnectedAt, Instant lastDisconnectedAt, String lastDisconnectReason,
            Instant lastSeenAt) implements DeviceSerializable {}

    public record ShadowView(
            ObjectNode desired, ObjectNode reported, ObjectNode delta, ObjectNode desiredMetadata,
            ObjectNode reportedMetadata, long version, Instant updatedAt) implements DeviceSerializable {}

    // ---------------------------------------------------------------- behavior

    public static Behavior<Command> create(String entityId, DeviceSettings settings, Clock clock) {
        return create(entityId, settings, clock, null, SessionDirectory.NONE);
    }

    public static Behavior<Command> create(String entityId, DeviceSettings settings, Clock clock,
            SessionDirectory sessions) {
        return create(entityId, settings, clock, null, sessions);
    }

    /**
     * @param credentials the credentials topic to publish changes to, or null
     * @param sessions how this node reaches device sessions and learns of lost members
     */
    public static Behavior<Command> create(String entityId, DeviceSettings settings, Clock clock,
            ActorRef<Topic.Command<CredentialsChanged>> credentials, SessionDirectory sessions) {
        return create(entityId, settings, clock, credentials, sessions, null);
    }

    /**
     * @param shard the shard that hosts the twin (sharding's entity context), or null: a twin that finds no device
     *     (never registered, or decommissioned) asks it to passivate right after answering, so a stranger's guess of an
     *     id costs one recovery and leaves nothing in memory
     */
    public static Behavior<Command> create(String entityId, DeviceSettings settings, Clock clock,
            ActorRef<Topic.Command<CredentialsChanged>> credentials, SessionDirectory sessions,
            ActorRef<ClusterSharding.ShardCommand> shard) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(
                timers -> new Device(DeviceKey.fromEntityId(entityId), settings, clock, timers, credentials, sessions,
                        ctx, ctx.getSystem().ignoreRef(), shard)));
    }

    public static PersistenceId persistenceId(DeviceKey key) {
        return PersistenceId.of(ENTITY_TYPE_KEY.name(), key.entityId());
    }

    private final DeviceKey key;
    private final DeviceSettings settings;
    private final Clock clock;
    /** Last traffic from the device: in memory only (journaling every message would cost a write each). */
    private Instant lastSeenAt;

    /** Who waits for which command to reach which status: in memory only, bounded by their timers. */
    private record Waiter(String waiterId, Set<CommandStatus> until, ActorRef<Reply> replyTo) {}

    private final Map<String, List<Waiter>> waiters = new HashMap<>();
    /** Commands handed to the current session (in memory): each is sent at most once per session unless it failed. */
    private final Set<String> dispatched = new java.util.HashSet<>();
    private final TimerScheduler<Command> timers;

    private final ActorRef<Topic.Command<CredentialsChanged>> credentials;
    private final SessionDirectory sessions;
    private final ActorRef<Command> self;
    private final ActorContext<Command> ctx;
    private final ActorRef<Reply> nobody;
    /**
     * Set at recovery when the recorded session's node is no longer a member: the twin shows the device
     * offline at once, before its own {@link SessionNodeLost} has been journaled.
     */
    private boolean sessionLost;
    private final ActorRef<ClusterSharding.ShardCommand> shard;
    private boolean passivating;

    private Device(DeviceKey key, DeviceSettings settings, Clock clock, TimerScheduler<Command> timers,
            ActorRef<Topic.Command<CredentialsChanged>> credentials, SessionDirectory sessions, ActorContext<Command> ctx,
            ActorRef<Object> nobody, ActorRef<ClusterSharding.ShardCommand> shard) {
        // A failed journal write stops the twin; it comes back after a backoff, recovering from the journal.
        super(persistenceId(key), TwinFailure.BACKOFF);
        this.key = key;
        this.settings = settings;
        this.clock = clock;
        this.timers = timers;
        this.credentials = credentials;
        this.sessions = sessions;
        this.ctx = ctx;
        this.self = ctx.getSelf();
        this.nobody = nobody.unsafeUpcast();
        this.shard = shard;
    }

    @Override
    public SignalHandler<State> signalHandler() {
        return TwinFailure.<State>handler(ctx.getSystem(), "device", (s, sig) -> {
            if (!(sig instanceof RecoveryCompleted)) {
                return;
            }
            Connectivity c = s.connectivity();
            if (!c.online()) {
                return;
            }
            if (sessions.isLive(c.node())) {
                sessions.watch(c.node(), self);
            } else {
                // e.g. every node restarted: that session cannot exist any more
                sessionLost = true;
                self.tell(new SessionNodeLost(c.node(), nobody));
            }
        });
    }

    private void credentialsChanged() {
        if (credentials != null) {
            credentials.tell(Topic.publish(new CredentialsChanged(key)));
        }
    }

    @Override
    public State emptyState() {
        return State.empty();
    }

    /**
     * Every event carries one of {@code drover.device.event-tags} tags, by the entity id's hash: the read
     * side's projections run one instance per tag. FIXED ONCE DATA EXISTS (docs/cluster.md).
     */
    public static String eventTag(DeviceKey key, int tags) {
        return "device-" + Math.floorMod(key.entityId().hashCode(), tags);
    }

    /** All tags of {@link #eventTag}, in order. */
    public static List<String> eventTags(int tags) {
        List<String> out = new ArrayList<>(tags);
        for (int i = 0; i < tags; i++) {
            out.add("device-" + i);
        }
        return List.copyOf(out);
    }

    @Override
    public Set<String> tagsFor(Event event) {
        return Set.of(eventTag(key, settings.eventTags()));
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), settings.snapshotsKept());
    }

    /**
     * One lambda, not {@code newEventHandlerBuilder()}: Pekko calls this once per twin, and a builder's cases are
     * objects every twin would hold (docs/device-twin.md, "Memory per twin").
     */
    @Override
    public EventHandler<State, Event> eventHandler() {
        int commandsKept = settings.commandsKept();
        return (s, e) -> s.apply(e, commandsKept);
    }

    /**
     * A plain dispatch instead of {@code newCommandHandlerWithReplyBuilder()}: the builder's 27 cases with their
     * lambdas and predicates were ~2.7 KB of every live twin's heap, a third of it (measured with
     * {@code jmap -histo:live}, docs/device-twin.md). The order is the builder's was: per lifecycle, the first
     * matching command, else {@link #reject}.
     */
    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        return this::handle;
    }

    private ReplyEffect<Event, State> handle(State s, Command c) {
        Lifecycle l = s.lifecycle();
        if (l == Lifecycle.NEW) {
            return c instanceof Register r ? register(s, r) : reject(s, c);
        }
        if (l == Lifecycle.DECOMMISSIONED) {
            return reject(s, c);
        }
        ReplyEffect<Event, State> e = live(s, c);
        if (e != null) {
            return e;
        }
        if (l == Lifecycle.PROVISIONED || l == Lifecycle.ACTIVE) {
            if (c instanceof Suspend x) {
                return Effect().persist(new Suspended(now()))
                        .thenRun(ns -> {
                            kick(s, "suspended");
                            credentialsChanged();
                        })
                        .thenReply(x.replyTo(), this::details);
            } else if (c instanceof RecordConnected x) {
                return connected(s, x);
            } else if (c instanceof RequestCommand x) {
                return requestCommand(s, x);
            } else if (c instanceof DeliverPending x) {
                return deliverPending(s, x);
            }
        }
        if ((l == Lifecycle.PROVISIONED || l == Lifecycle.SUSPENDED) && c instanceof Activate x) {
            return Effect().persist(new Activated(now()))
                    .thenRun(ns -> credentialsChanged())
                    .thenReply(x.replyTo(), this::details);
        }
        return reject(s, c);
    }

    /** The commands of every registered, not decommissioned twin; null for the others. */
    private ReplyEffect<Event, State> live(State s, Command c) {
        if (c instanceof Get x) {
            return Effect().reply(x.replyTo(), details(s));
        } else if (c instanceof GetShadow x) {
            return Effect().reply(x.replyTo(), new ShadowDetails(s.shadowView()));
        } else if (c instanceof Notify x) {
            return notifySession(s, x);
        } else if (c instanceof UpdateMetadata x) {
            return updateMetadata(s, x);
        } else if (c instanceof RotateCredentials x) {
            return rotate(s, x);
        } else if (c instanceof SetCertificate x) {
            return setCertificate(s, x);
        } else if (c instanceof Decommission x) {
            return Effect().persist(new Decommissioned(now()))
                    .thenRun(ns -> {
                        kick(s, "decommissioned");
                        credentialsChanged();
                    })
                    .thenReply(x.replyTo(), this::details);
        } else if (c instanceof UpdateDesired x) {
            return patchShadow(s, x.patch(), x.expectedVersion(), true, x.replyTo());
        } else if (c instanceof UpdateReported x) {
            return patchShadow(s, x.patch(), x.expectedVersion(), false, x.replyTo());
        } else if (c instanceof RecordDisconnected x) {
            return disconnected(s, x);
        } else if (c instanceof SessionNodeLost x) {
            return nodeLost(s, x);
        } else if (c instanceof GetCommand x) {
            return getCommand(s, x);
        } else if (c instanceof ListCommands x) {
            return listCommands(s, x);
        } else if (c instanceof GetJournalPosition x) {
            return Effect().reply(x.replyTo(), new JournalPosition(lastSequenceNumber(ctx)));
        } else if (c instanceof AnswerDue x) {
            return answerDue(s, x);
        } else if (c instanceof AwaitCommand x) {
            return awaitCommand(s, x);
        } else if (c instanceof AwaitTimedOut x) {
            return awaitTimedOut(s, x);
        } else if (c instanceof RecordCommandDelivery x) {
            return commandDelivery(s, x);
        } else if (c instanceof RecordCommandResponse x) {
            return commandResponse(s, x);
        } else if (c instanceof RecordSeen x) {
            lastSeenAt = x.at();
            return Effect().reply(x.replyTo(), details(s));
        }
        return null;
    }

    private ReplyEffect<Event, State> notifySession(State s, Notify c) {
        Connectivity con = s.connectivity();
        if (!con.online() || sessionLost || con.node() == null) {
            return Effect().reply(c.replyTo(), new Rejected(Rejection.DEVICE_OFFLINE, "device " + key.deviceId()
                    + " is offline"));
        }
        sessions.send(con.node(), new Notification(key, c.body()), self);
        return Effect().reply(c.replyTo(), new NotificationSent(con.node()));
    }

    private DeviceDetails details(State s) {
        return new DeviceDetails(s.view(lastSeenAt, s.connectivity().online() && !sessionLost));
    }

    /** A first connection activates a provisioned device; a device that comes back catches up on desired. */
    private ReplyEffect<Event, State> connected(State s, RecordConnected c) {
        if (c.credential() != null && !c.credential().equals(RecordConnected.token(s.tokenHash()))
                && !(s.certificateFingerprint() != null
                        && c.credential().equals(RecordConnected.certificate(s.certificateFingerprint())))) {
            // the session authenticated with a token or certificate the device no longer has (rotated meanwhile,
            // or a node's cache was stale): the edge ends it
            return Effect().reply(c.replyTo(), new Rejected(Rejection.BAD_CREDENTIALS,
                    "the session's credentials are no longer the device's"));
        }
        Connectivity current = s.connectivity();
        if (current.online() && !sessionLost && !c.sessionId().equals(current.sessionId())
                && current.lastConnectedAt() != null && c.at().isBefore(current.lastConnectedAt())) {
            // an older session reported late (it raced a reconnect elsewhere): the newer one stays; end the old one
            if (!c.node().equals(current.node())) {
                sessions.send(c.node(), new Kick(key, "session-replaced"), self);
            }
            return Effect().reply(c.replyTo(), details(s));
        }
        if (c.sessionId().equals(current.sessionId()) && current.online()) {
            return Effect().reply(c.replyTo(), details(s)); // the same report again
        }
        lastSeenAt = c.at();
        List<Event> events = new ArrayList<>();
        if (s.lifecycle() == Lifecycle.PROVISIONED) {
            events.add(new Activated(c.at()));
        }
        events.add(new Connected(c.sessionId(), c.node(), c.at()));
        events.addAll(expiries(s));
        return Effect().persist(events)
                .thenRun(ns -> {
                    sessionLost = false;
                    if (current.online() && current.node() != null && !current.node().equals(c.node())) {
                        // the device moved to another node: its session there, if still open, is stale
                        sessions.send(current.node(), new Kick(key, "session-replaced"), self);
                    }
                    sessions.watch(c.node(), self);
                    dispatched.clear(); // a new session has been handed nothing yet
                    announce(new ConnectivityChanged(key, true, null, c.at()));
                    pushDelta(ns);
                    deliverPendingTo(ns);
                })
                .thenReply(c.replyTo(), this::details);
    }

    private ReplyEffect<Event, State> disconnected(State s, RecordDisconnected c) {
        if (!s.connectivity().online() || !c.sessionId().equals(s.connectivity().sessionId())) {
            return Effect().reply(c.replyTo(), details(s)); // an older session ending: nothing changes
        }
        return offline(c.sessionId(), c.reason(), c.at(), c.replyTo());
    }

    private ReplyEffect<Event, State> nodeLost(State s, SessionNodeLost c) {
        Connectivity current = s.connectivity();
        if (!current.online() || !c.node().equals(current.node())) {
            return Effect().reply(c.replyTo(), details(s)); // the device is elsewhere now
        }
        return offline(current.sessionId(), "node-lost", now(), c.replyTo());
    }

    private ReplyEffect<Event, State> offline(String sessionId, String reason, Instant at, ActorRef<Reply> replyTo) {
        return Effect().persist(new Disconnected(sessionId, reason, at))
                .thenRun(ns -> {
                    sessionLost = false;
                    sessions.unwatch(self);
                    announce(new ConnectivityChanged(key, false, reason, at));
                })
                .thenReply(replyTo, this::details);
    }

    private void announce(ConnectivityChanged c) {
        ConnectivityTopic.get(ctx.getSystem()).topic().tell(Topic.publish(c));
    }

    // ---------------------------------------------------------------- commands (RPC)

    private ReplyEffect<Event, State> requestCommand(State s, RequestCommand c) {
        Optional<CommandRecord> existing = s.command(c.id());
        if (existing.isPresent()) {
            return Effect().reply(c.replyTo(), new CommandDetails(existing.get())); // same id: idempotent
        }
        boolean online = online(s);
        if (!online && !c.persistent()) {
            return Effect().reply(c.replyTo(), new Rejected(Rejection.DEVICE_OFFLINE,
                    "device " + key.deviceId() + " is offline; send the command as persistent to queue it"));
        }
        Instant now = now();
        long pending = s.commands().stream()
                .filter(r -> r.persistent() && r.status() == CommandStatus.REQUESTED && !r.expiredAt(now)).count();
        if (c.persistent() && pending >= settings.pendingCommandsMax()) {
            return Effect().reply(c.replyTo(), new Rejected(Rejection.TOO_MANY_PENDING,
                    pending + " commands are already waiting for device " + key.deviceId()));
        }
        CommandRecord record = new CommandRecord(c.id(), c.name(), c.params() == null ? Shadows.empty() : c.params(),
                c.twoWay(), c.persistent(), now, now.plus(c.ttl()), CommandStatus.REQUESTED, null, null, null, null,
                c.twoWay() ? c.answerTimeout() : null);
        return Effect().persist(new CommandRequested(record, now))
                .thenRun(ns -> {
                    if (online && dispatched.add(record.id())) {
                        sessions.send(ns.connectivity().node(), new DeliverCommand(key, record), self);
                    }
                })
                .thenReply(c.replyTo(), ns -> new CommandDetails(record));
    }

    private ReplyEffect<Event, State> deliverPending(State s, DeliverPending c) {
        List<Event> expired = expiries(s);
        if (expired.isEmpty()) {
            deliverPendingTo(s);
            return Effect().reply(c.replyTo(), new CommandList(s.commands()));
        }
        return Effect().persist(expired).thenRun(this::deliverPendingTo)
                .thenReply(c.replyTo(), ns -> new CommandList(ns.commands()));
    }

    /** CommandExpired for every queued command whose time to live has passed. */
    private List<Event> expiries(State s) {
        Instant now = now();
        List<Event> out = new ArrayList<>();
        for (CommandRecord r : s.commands()) {
            if (r.expiredAt(now)) {
                out.add(new CommandExpired(r.id(), now));
            }
        }
        return out;
    }

    private void deliverPendingTo(State s) {
        if (online(s)) {
            String node = s.connectivity().node();
            s.commands().stream().filter(r -> r.status() == CommandStatus.REQUESTED && !r.expiredAt(now()))
                    .filter(r -> dispatched.add(r.id()))
                    .forEach(r -> sessions.send(node, new DeliverCommand(key, r), self));
        }
    }

    /** Online as recorded, and its node still a member. */
    private boolean online(State s) {
        Connectivity c = s.connectivity();
        return c.online() && !sessionLost && c.node() != null && sessions.isLive(c.node());
    }

    private ReplyEffect<Event, State> listCommands(State s, ListCommands c) {
        List<Event> expired = expiries(s);
        if (expired.isEmpty()) {
            return Effect().reply(c.replyTo(), new CommandList(s.commands()));
        }
        return Effect().persist(expired)
                .thenRun(ns -> expired.forEach(e -> notifyWaiters(ns, ((CommandExpired) e).id())))
                .thenReply(c.replyTo(), ns -> new CommandList(ns.commands()));
    }

    /** The answer time of a delivered two-way command ran out: it expires unless it was answered meanwhile. */
    private ReplyEffect<Event, State> answerDue(State s, AnswerDue c) {
        Optional<CommandRecord> r = s.command(c.id());
        if (r.isEmpty() || r.get().status() != CommandStatus.DELIVERED) {
            return Effect().noReply();
        }
        return Effect().persist(new CommandExpired(c.id(), now()))
                .thenRun(ns -> notifyWaiters(ns, c.id()))
                .thenNoReply();
    }

    private ReplyEffect<Event, State> getCommand(State s, GetCommand c) {
        Optional<CommandRecord> r = s.command(c.id());
        if (r.isEmpty()) {
            return Effect().reply(c.replyTo(), commandNotFound(c.id()));
        }
        if (r.get().expiredAt(now())) {
            return Effect().persist(new CommandExpired(c.id(), now()))
                    .thenRun(ns -> notifyWaiters(ns, c.id()))
                    .thenReply(c.replyTo(), ns -> new CommandDetails(ns.command(c.id()).orElseThrow()));
        }
        return Effect().reply(c.replyTo(), new CommandDetails(r.get()));
    }

    private ReplyEffect<Event, State> awaitCommand(State s, AwaitCommand c) {
        Optional<CommandRecord> r = s.command(c.id());
        if (r.isEmpty()) {
            return Effect().reply(c.replyTo(), commandNotFound(c.id()));
        }
        if (c.until().contains(r.get().status())) {
            return Effect().reply(c.replyTo(), new CommandDetails(r.get()));
        }
        String waiterId = java.util.UUID.randomUUID().toString();
        waiters.computeIfAbsent(c.id(), k -> new ArrayList<>()).add(new Waiter(waiterId, c.until(), c.replyTo()));
        timers.startSingleTimer(waiterId, new AwaitTimedOut(c.id(), waiterId, c.replyTo()), c.timeout());
        return Effect().noReply(); // answered by notifyWaiters or by the timer
    }

    private ReplyEffect<Event, State> awaitTimedOut(State s, AwaitTimedOut c) {
        List<Waiter> list = waiters.get(c.id());
        if (list == null) {
            // answered already: notifyWaiters cancelled this timer, but its message was on its way (or stashed)
            return Effect().noReply();
        }
        boolean stillWaiting = list.removeIf(w -> w.waiterId().equals(c.waiterId()));
        if (list.isEmpty()) {
            waiters.remove(c.id());
        }
        if (!stillWaiting) {
            return Effect().noReply(); // answered already
        }
        return Effect().reply(c.replyTo(), s.command(c.id()).<Reply>map(CommandDetails::new).orElse(commandNotFound(c.id())));
    }

    private void notifyWaiters(State s, String id) {
        List<Waiter> list = waiters.get(id);
        Optional<CommandRecord> r = s.command(id);
        if (list == null || r.isEmpty()) {
            return;
        }
        list.removeIf(w -> {
            if (w.until().contains(r.get().status())) {
                timers.cancel(w.waiterId());
                w.replyTo().tell(new CommandDetails(r.get()));
                return true;
            }
            return false;
        });
        if (list.isEmpty()) {
            waiters.remove(id);
        }
    }

    private ReplyEffect<Event, State> commandDelivery(State s, RecordCommandDelivery c) {
        Optional<CommandRecord> r = s.command(c.id());
        if (r.isEmpty()) {
            return Effect().reply(c.replyTo(), commandNotFound(c.id()));
        }
        if (r.get().status() != CommandStatus.REQUESTED) {
            return Effect().reply(c.replyTo(), new CommandDetails(r.get()));
        }
        if (c.delivered()) {
            CommandRecord delivered = r.get();
            return Effect().persist(new CommandDelivered(c.id(), c.at()))
                    .thenRun(ns -> {
                        notifyWaiters(ns, c.id());
                        if (delivered.twoWay() && delivered.answerTimeout() != null) {
                            timers.startSingleTimer("answer-" + c.id(), new AnswerDue(c.id(), nobody),
                                    delivered.answerTimeout());
                        }
                    })
                    .thenReply(c.replyTo(), ns -> new CommandDetails(ns.command(c.id()).orElseThrow()));
        }
        dispatched.remove(c.id()); // not handed over: it may be sent again
        if (r.get().persistent()) {
            return Effect().reply(c.replyTo(), new CommandDetails(r.get())); // stays queued for the next chance
        }
        return Effect().persist(new CommandFailed(c.id(), c.reason(), c.at()))
                .thenRun(ns -> notifyWaiters(ns, c.id()))
                .thenReply(c.replyTo(), ns -> new CommandDetails(ns.command(c.id()).orElseThrow()));
    }

    private ReplyEffect<Event, State> commandResponse(State s, RecordCommandResponse c) {
        Optional<CommandRecord> r = s.command(c.id());
        if (r.isEmpty()) {
            return Effect().reply(c.replyTo(), commandNotFound(c.id()));
        }
        if (r.get().status().finished()) {
            return Effect().reply(c.replyTo(), new CommandDetails(r.get())); // a second answer changes nothing
        }
        if (c.response() != null && Shadows.sizeInBytes(c.response()) > settings.commandResponseMaxBytes()) {
            return Effect().reply(c.replyTo(), new Rejected(Rejection.INVALID_INPUT, "the answer is larger than "
                    + settings.commandResponseMaxBytes() + " bytes of JSON"));
        }
        return Effect().persist(new CommandResponded(c.id(), c.response(), c.at()))
                .thenRun(ns -> notifyWaiters(ns, c.id()))
                .thenReply(c.replyTo(), ns -> new CommandDetails(ns.command(c.id()).orElseThrow()));
    }

    private Rejected commandNotFound(String id) {
        return new Rejected(Rejection.COMMAND_NOT_FOUND, "device " + key.deviceId() + " has no command " + id);
    }

    private void pushDelta(State s) {
        if (online(s)) {
            ObjectNode delta = Shadows.delta(s.desired(), s.reported());
            if (!delta.isEmpty()) {
                sessions.send(s.connectivity().node(), new PushDesired(key, s.shadowVersion(), delta), self);
            }
        }
    }

    /** Ends the live session of the state before the change (credentials or lifecycle changed). */
    private void kick(State before, String reason) {
        if (online(before)) {
            sessions.send(before.connectivity().node(), new Kick(key, reason), self);
        }
    }

    private Instant now() {
        return clock.instant();
    }

    private ReplyEffect<Event, State> register(State s, Register c) {
        String token = Credentials.newSecret("dt_");
        ObjectNode attributes = c.attributes() == null ? Shadows.empty() : c.attributes().deepCopy();
        Registered event = new Registered(key, c.name(), c.type(), c.labels(), attributes,
                Credentials.hash(token), now());
        return Effect().persist(event).thenRun(ns -> credentialsChanged())
                .thenReply(c.replyTo(), ns -> new TokenIssued(ns.view(), token));
    }

    private ReplyEffect<Event, State> updateMetadata(State s, UpdateMetadata c) {
        String name = c.name() != null ? c.name() : s.name();
        String type = c.type() != null ? c.type() : s.type();
        List<String> labels = c.labels() != null ? sortedLabels(c.labels()) : s.labels();
        ObjectNode attributes = c.attributes() != null ? Shadows.mergePatch(s.attributes(), c.attributes()) : s.attributes();
        if (java.util.Objects.equals(name, s.name()) && java.util.Objects.equals(type, s.type())
                && labels.equals(s.labels()) && attributes.equals(s.attributes())) {
            return Effect().reply(c.replyTo(), details(s)); // nothing changes: idempotent
        }
        return Effect().persist(new MetadataUpdated(name, type, labels, attributes, now()))
                .thenReply(c.replyTo(), this::details);
    }

    private ReplyEffect<Event, State> setCertificate(State s, SetCertificate c) {
        String fp = c.fingerprint() == null ? null : c.fingerprint().toLowerCase();
        if (fp != null && !fp.matches("[0-9a-f]{64}")) {
            return Effect().reply(c.replyTo(), new Rejected(Rejection.INVALID_INPUT,
                    "a certificate fingerprint is the SHA-256 of its DER encoding, 64 hex digits"));
        }
        if (java.util.Objects.equals(fp, s.certificateFingerprint())) {
            return Effect().reply(c.replyTo(), details(s));
        }
        return Effect().persist(new CertificateSet(fp, now()))
                .thenRun(ns -> {
                    kick(s, "credentials-changed");
                    credentialsChanged();
                })
                .thenReply(c.replyTo(), this::details);
    }

    private ReplyEffect<Event, State> rotate(State s, RotateCredentials c) {
        String token = Credentials.newSecret("dt_");
        return Effect().persist(new CredentialsRotated(Credentials.hash(token), now()))
                .thenRun(ns -> {
                    kick(s, "credentials-rotated");
                    credentialsChanged();
                })
                .thenReply(c.replyTo(), ns -> new TokenIssued(ns.view(lastSeenAt), token));
    }

    private ReplyEffect<Event, State> patchShadow(
            State s, ObjectNode patch, Optional<Long> expectedVersion, boolean desired, ActorRef<Reply> replyTo) {
        if (patch == null) {
            return Effect().reply(replyTo, new Rejected(Rejection.INVALID_INPUT, "shadow patch must be a JSON object"));
        }
        if (expectedVersion.isPresent() && expectedVersion.get() != s.shadowVersion()) {
            return Effect().reply(replyTo, new Rejected(Rejection.VERSION_MISMATCH,
                    "shadow is at version " + s.shadowVersion() + ", not " + expectedVersion.get()));
        }
        ObjectNode current = desired ? s.desired() : s.reported();
        ObjectNode next = Shadows.mergePatch(current, patch);
        if (next.equals(current)) {
            return Effect().reply(replyTo, new ShadowDetails(s.shadowView())); // no change, no new version
        }
        int size = Shadows.sizeInBytes(next);
        if (size > settings.maxShadowBytes()) {
            return Effect().reply(replyTo, new Rejected(Rejection.SHADOW_TOO_LARGE,
                    (desired ? "desired" : "reported") + " document would be " + size + " bytes; the limit is "
                            + settings.maxShadowBytes()));
        }
        long version = s.shadowVersion() + 1;
        Event event = desired
                ? new DesiredUpdated(patch.deepCopy(), version, now())
                : new ReportedUpdated(patch.deepCopy(), version, now());
        return Effect().persist(event)
                .thenRun(ns -> {
                    if (desired) {
                        pushDelta(ns);
                    }
                })
                .thenReply(replyTo, ns -> new ShadowDetails(ns.shadowView()));
    }

    private ReplyEffect<Event, State> reject(State s, Command c) {
        Rejected r = rejection(s, c);
        boolean noDevice = s.lifecycle() == Lifecycle.NEW || s.lifecycle() == Lifecycle.DECOMMISSIONED;
        if (noDevice && shard != null && !passivating && s.commands().isEmpty()) {
            passivating = true; // the shard buffers what arrives meanwhile and starts the twin again for it
            shard.tell(new ClusterSharding.Passivate<>(self));
        }
        return Effect().reply(c.replyTo(), r);
    }

    private Rejected rejection(State s, Command c) {
        return switch (s.lifecycle()) {
            case NEW -> new Rejected(Rejection.NOT_FOUND, "device " + key.deviceId() + " does not exist");
            case DECOMMISSIONED -> c instanceof Register
                    ? new Rejected(Rejection.ALREADY_EXISTS,
                            "device id " + key.deviceId() + " belonged to a decommissioned device and is not reusable")
                    : new Rejected(Rejection.DECOMMISSIONED, "device " + key.deviceId() + " is decommissioned");
            default -> c instanceof Register
                    ? new Rejected(Rejection.ALREADY_EXISTS, "device " + key.deviceId() + " already exists")
                    : new Rejected(Rejection.INVALID_STATE, "device " + key.deviceId() + " is "
                            + s.lifecycle().name().toLowerCase() + "; " + c.getClass().getSimpleName()
                            + " is not allowed");
        };
    }
}
