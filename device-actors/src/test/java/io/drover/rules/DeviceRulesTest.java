package io.drover.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.drover.device.DeviceKey;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The owner of a device's rule state: deadlines on its own timer, statuses journaled and recovered, reconcile. */
class DeviceRulesTest {

    private static final ActorTestKit testKit = ActorTestKit.create(
            EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));
    private static final AtomicInteger ids = new AtomicInteger();
    private static final RuleCompiler C = new RuleCompiler(RulesSettings.defaults());

    /** Records what the rules did. */
    record Seen(String what, String ruleId, long at) {}

    private final TestProbe<Seen> seen = testKit.createTestProbe();
    private EventSourcedBehaviorTestKit<DeviceRules.Command, DeviceRules.Event, DeviceRules.State> kit;

    @AfterAll
    static void shutdown() {
        testKit.shutdownTestKit();
    }

    private RuleEffects effects() {
        return new RuleEffects() {
            @Override
            public void run(DeviceKey device, CompiledRule rule, RuleRuntime.Output output) {
                if (output instanceof RuleRuntime.Transition t) {
                    seen.ref().tell(new Seen(t.kind().name(), rule.id(), t.at()));
                }
            }

            @Override
            public void reconcile(DeviceKey device, CompiledRule rule, long since) {
                seen.ref().tell(new Seen("RECONCILE", rule.id(), since));
            }

            @Override
            public CompletionStage<RuleRuntime.Facts> facts(DeviceKey device) {
                return CompletableFuture.completedFuture(new RuleRuntime.Facts(device.deviceId(), "n", "boiler",
                        List.of("roof"), null, null, null));
            }
        };
    }

    private void fresh(CompiledRule... rules) {
        String tenant = "t" + ids.incrementAndGet();
        RuleCatalog catalog = RuleCatalog.of(new RuleCatalog.TenantRules(tenant, 1, List.of(rules)));
        kit = EventSourcedBehaviorTestKit.create(testKit.system(),
                DeviceRules.create(tenant + ":d1", RulesSettings.defaults(), catalog, effects(), Clock.systemUTC()));
    }

    private void observe(long ts, double t) {
        DeviceRules.Reply r = kit.<DeviceRules.Reply>runCommand(rt -> new DeviceRules.Observe(
                List.of(new DeviceRules.Message(ts, Map.of("t", t))), false, 1, rt)).reply();
        assertInstanceOf(DeviceRules.Observed.class, r);
    }

    @Test
    void aForConditionFiresOnTheOwnersTimerAtItsDeadline() {
        fresh(C.compile("hot", 1, RuleDefinition.alarmRule("h", null, "t > 80", null, "400ms", "hot", null)));
        long now = System.currentTimeMillis();
        observe(now, 90);
        assertEquals(new Seen("PENDING", "hot", now), seen.receiveMessage());
        Seen raised = seen.receiveMessage(Duration.ofSeconds(3));
        assertEquals(new Seen("RAISED", "hot", now + 400), raised, "at the deadline, with no message after it");
        observe(now + 1000, 10);
        assertEquals("CLEARED", seen.receiveMessage().what());
    }

    @Test
    void aPendingStatusSurvivesRecoveryAndAnActiveOneIsReconciled() {
        CompiledRule hot = C.compile("hot", 1, RuleDefinition.alarmRule("h", null, "t > 80", null, "1500ms", "hot", null));
        CompiledRule now = C.compile("now", 1, RuleDefinition.alarmRule("n", null, "t > 50", null, null, "warm", null));
        fresh(hot, now);
        long t0 = System.currentTimeMillis();
        observe(t0, 90);
        assertEquals("PENDING", seen.receiveMessage().what());
        assertEquals("RAISED", seen.receiveMessage().what());
        kit.restart(); // as after a kill -9: in-memory state gone, the journal remains
        assertEquals(RuleRuntime.Status.PENDING, kit.getState().statuses().get("hot").status());
        observe(t0 + 100, 95); // the next message wakes the new owner
        assertEquals(new Seen("RECONCILE", "now", t0), seen.receiveMessage(), "the active alarm is raised again (idempotent)");
        Seen raised = seen.receiveMessage(Duration.ofSeconds(4));
        assertEquals(new Seen("RAISED", "hot", t0 + 1500), raised, "the original deadline, not 1.5 s after the restart");
    }

    @Test
    void rulesThatReadTheDeviceWaitForItsFacts() {
        CompiledRule typed = C.compile("typed", 1, RuleDefinition.alarmRule("x",
                new RuleDefinition.Trigger(null, "boiler", List.of("roof")), "t > 1 && hasLabel(\"roof\")", null, null,
                "x", null));
        CompiledRule other = C.compile("other", 1, RuleDefinition.alarmRule("y",
                new RuleDefinition.Trigger(null, "fridge", null), "t > 1", null, null, "y", null));
        fresh(typed, other);
        observe(System.currentTimeMillis(), 5);
        Seen s = seen.receiveMessage();
        assertEquals("typed", s.ruleId());
        assertTrue(s.what().equals("RAISED"));
        seen.expectNoMessage(Duration.ofMillis(200));
    }
}
