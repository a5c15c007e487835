package io.drover.device;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.persistence.typed.JournalPersistFailed;
import org.apache.pekko.persistence.typed.JournalPersistRejected;
import org.apache.pekko.persistence.typed.RecoveryFailed;
import org.apache.pekko.persistence.typed.javadsl.SignalHandlerBuilder;

/**
 * A journal failure that stops an event-sourced entity (device twin, rules owner, alarm): its recovery failed, or a
 * write failed or was rejected. A failed recovery or write restarts the entity after a backoff (200 ms doubling to
 * 10 s, see each entity's {@code onPersistFailure}); a rejected write stops it until its next message. Published on
 * the local actor system's event stream (never sent over the network), where the node counts it as
 * {@code drover_twin_restarts_total{entity,cause}}.
 */
public record TwinFailure(String entity, String cause) {

    public static final String RECOVERY_FAILED = "recovery-failed";
    public static final String PERSIST_FAILED = "persist-failed";
    public static final String PERSIST_REJECTED = "persist-rejected";

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
