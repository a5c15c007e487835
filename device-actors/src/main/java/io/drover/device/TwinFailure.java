package io.drover.device;

import java.time.Duration;
import java.util.List;
import java.util.function.BiConsumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.BackoffSupervisorStrategy;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.persistence.typed.EventSourcedSignal;
import org.apache.pekko.persistence.typed.JournalPersistFailed;
import org.apache.pekko.persistence.typed.JournalPersistRejected;
import org.apache.pekko.persistence.typed.RecoveryFailed;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.apache.pekko.persistence.typed.javadsl.SignalHandlerBuilder;

/**
 * A journal failure that stops an event-sourced entity (device twin, rules owner, alarm): its recovery failed, or a
 * write failed or was rejected. A failed recovery or write restarts the entity after a backoff (200 ms doubling to
 * 10 s, {@link #BACKOFF}); a rejected write stops it until its next message. Published on
 * the local actor system's event stream (never sent over the network), where the node counts it as
 * {@code drover_twin_restarts_total{entity,cause}}.
 */
public record TwinFailure(String entity, String cause) {

    public static final String RECOVERY_FAILED = "recovery-failed";
    public static final String PERSIST_FAILED = "persist-failed";
    public static final String PERSIST_REJECTED = "persist-rejected";
    public static final List<String> CAUSES = List.of(RECOVERY_FAILED, PERSIST_FAILED, PERSIST_REJECTED);

    /** The entities that report their failures (the {@code entity} label). */
    public static final List<String> ENTITIES = List.of("device", "rules", "alarm");

    /** The restart backoff of every entity above: 200 ms doubling to 10 s, 20 % jitter. */
    public static final BackoffSupervisorStrategy BACKOFF =
            SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2);

    /**
     * An entity's whole signal handler as one case over its event-sourced signals: the three failures each publish
     * one {@code TwinFailure}, every other such signal (e.g. {@code RecoveryCompleted}) goes to {@code other}. One
     * case, not a builder chain: every live twin holds its handler, and each builder case costs it ~90 B
     * (docs/device-twin.md, "Memory per twin"). Actor signals such as {@code Terminated} stay unhandled, as before.
     */
    public static <S> SignalHandler<S> handler(ActorSystem<?> system, String entity,
            BiConsumer<S, EventSourcedSignal> other) {
        return SignalHandlerBuilder.<S>builder().onSignal(EventSourcedSignal.class, (s, sig) -> {
            String cause = sig instanceof RecoveryFailed ? RECOVERY_FAILED
                    : sig instanceof JournalPersistFailed ? PERSIST_FAILED
                    : sig instanceof JournalPersistRejected ? PERSIST_REJECTED
                    : null;
            if (cause != null) {
                publish(system, entity, cause);
            } else {
                other.accept(s, sig);
            }
        }).build();
    }

    private static void publish(ActorSystem<?> system, String entity, String cause) {
        system.eventStream().tell(new EventStream.Publish<>(new TwinFailure(entity, cause)));
    }
}
