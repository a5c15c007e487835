package io.drover.shard;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.drover.rules.Alarm;
import io.drover.rules.Severity;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/** The typed facade over alarm entities: views, or {@link Rejected}, or a {@code TimeoutException}. */
public final class AlarmClient {

    public static final class Rejected extends RuntimeException {
        private final Alarm.Rejection code;

        Rejected(Alarm.Rejected r) {
            super(r.message(), null, false, false);
            this.code = r.code();
        }

        public Alarm.Rejection code() {
            return code;
        }
    }

    private final ClusterSharding sharding;
    private final Duration timeout;

    AlarmClient(ClusterSharding sharding, Duration timeout) {
        this.sharding = sharding;
        this.timeout = timeout;
    }

    private CompletionStage<Alarm.AlarmView> ask(Alarm.Key key, Function<ActorRef<Alarm.Reply>, Alarm.Command> command) {
        return Stages.direct(sharding.entityRefFor(Alarm.ENTITY_TYPE_KEY, key.entityId()).ask(command::apply, timeout))
                .thenCompose(r -> r instanceof Alarm.Details d ? CompletableFuture.completedFuture(d.alarm())
                        : CompletableFuture.failedFuture(new Rejected((Alarm.Rejected) r)));
    }

    public CompletionStage<Alarm.AlarmView> raise(Alarm.Key key, String raiseKey, String ruleId, Integer ruleVersion,
            Severity severity, ObjectNode details, Instant at) {
        return ask(key, r -> new Alarm.Raise(raiseKey, ruleId, ruleVersion, severity, details, at, r));
    }

    public CompletionStage<Alarm.AlarmView> clear(Alarm.Key key, String by, Long instance, Instant at) {
        return ask(key, r -> new Alarm.Clear(by, instance, at, r));
    }

    public CompletionStage<Alarm.AlarmView> acknowledge(Alarm.Key key, String by, long instance) {
        return ask(key, r -> new Alarm.Acknowledge(by, instance, r));
    }

    public CompletionStage<Alarm.AlarmView> get(Alarm.Key key) {
        return ask(key, Alarm.Get::new);
    }
}
