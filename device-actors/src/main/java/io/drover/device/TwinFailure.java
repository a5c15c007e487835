package io.drover.device;

import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.BackoffSupervisorStrategy;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.persistence.typed.JournalPersistFailed;
import org.apache.pekko.persistence.typed.JournalPersistRejected;
import org.apache.pekko.persistence.typed.RecoveryFailed;
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

    /** Adds the three failure signals to an entity's signal handler; each publishes one {@code TwinFailure}. */
    public static <S> SignalHandlerBuilder<S> published(SignalHandlerBuilder<S> handler, ActorSystem<?> system,
            String entity) {
        return handler
                .onSignal(RecoveryFailed.class, (s, sig) -> publish(system, entity, RECOVERY_FAILED))
                .onSignal(JournalPersistFailed.class, (s, sig) -> publish(system, entity, PERSIST_FAILED))
                .onSignal(JournalPersistRejected.class, (s, sig) -> publish(system, entity, PERSIST_REJECTED));
    }

    private static void publish(ActorSystem<?> system, String entity, String cause) {
        system.eventStream().tell(new EventStream.Publish<>(new TwinFailure(entity, cause)));
    }
}
