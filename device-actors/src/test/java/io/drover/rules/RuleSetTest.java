package io.drover.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.typesafe.config.ConfigFactory;
import io.drover.device.TestClock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Versions, rollback, validation and idempotence of a tenant's rule set; recovery by restart. */
class RuleSetTest {

    private static final ActorTestKit testKit = ActorTestKit.create(
            EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));
    private static final AtomicInteger ids = new AtomicInteger();
    private static final RulesSettings SETTINGS = RulesSettings.defaults().withLimits(3, 3, 1000);

    private EventSourcedBehaviorTestKit<RuleSet.Command, RuleSet.Event, RuleSet.State> kit;

    @AfterAll
    static void shutdown() {
        testKit.shutdownTestKit();
    }

    @BeforeEach
    void fresh() {
        kit = EventSourcedBehaviorTestKit.create(testKit.system(),
                RuleSet.create("t" + ids.incrementAndGet(), SETTINGS, new TestClock(), null));
    }

    private static RuleDefinition overheat(String condition) {
        return RuleDefinition.alarmRule("overheat", new RuleDefinition.Trigger(List.of("r1"), null, null), condition,
                null, "3s", "overheat", "major");
    }

    private RuleSet.RuleView ok(RuleSet.Reply reply) {
        return assertInstanceOf(RuleSet.RuleDetails.class, reply).rule();
    }

    private RuleSet.Rejected rejected(RuleSet.Reply reply, RuleSet.Rejection code) {
        RuleSet.Rejected r = assertInstanceOf(RuleSet.Rejected.class, reply);
        assertEquals(code, r.code(), r.message());
        return r;
    }

    @Test
    void everyChangeIsANewVersionAndRollbackCopiesAnOldOne() {
        assertEquals(1, ok(kit.<RuleSet.Reply>runCommand(r -> new RuleSet.Create("a", overheat("t > 80"), "k1", r)).reply())
                .version());
        assertEquals(2, ok(kit.<RuleSet.Reply>runCommand(r -> new RuleSet.Update("a", overheat("t > 90"), Optional.of(1),
                "k1", r)).reply()).version());
        RuleSet.RuleView disabled = ok(kit.<RuleSet.Reply>runCommand(r -> new RuleSet.SetEnabled("a", false, "k2", r)).reply());
        assertEquals(3, disabled.version());
        assertFalse(disabled.definition().isEnabled());
        RuleSet.RuleView back = ok(kit.<RuleSet.Reply>runCommand(r -> new RuleSet.Rollback("a", 1, "k2", r)).reply());
        assertEquals(4, back.version());
        assertEquals("t > 80", back.definition().condition());
        assertEquals("k2", back.updatedBy());

        kit.restart();
        RuleSet.Versions versions = assertInstanceOf(RuleSet.Versions.class,
                kit.<RuleSet.Reply>runCommand(r -> new RuleSet.GetVersions("a", r)).reply());
        assertEquals(List.of(2, 3, 4), versions.versions().stream().map(RuleSet.Version::version).toList(),
                "versions-kept = 3: the oldest went");
        assertEquals("rollback:1", versions.versions().get(2).change());
        rejected(kit.<RuleSet.Reply>runCommand(r -> new RuleSet.Rollback("a", 1, "k2", r)).reply(),
                RuleSet.Rejection.VERSION_NOT_FOUND);
        rejected(kit.<RuleSet.Reply>runCommand(r -> new RuleSet.Update("a", overheat("t > 1"), Optional.of(3), "k", r)).reply(),
                RuleSet.Rejection.VERSION_MISMATCH);
    }

    @Test
    void invalidRulesAreRejectedWithFieldAndPosition() {
        RuleSet.Rejected r = rejected(kit.<RuleSet.Reply>runCommand(rt -> new RuleSet.Create("a", overheat("t >"), "k", rt))
                .reply(), RuleSet.Rejection.INVALID_RULE);
        assertEquals("condition", r.field());
        assertEquals(3, r.position());
        assertEquals(0, kit.getState().setVersion(), "nothing persisted");
    }

    @Test
    void createIsIdempotentAndBoundedAndDeleteLeavesATombstone() {
        ok(kit.<RuleSet.Reply>runCommand(r -> new RuleSet.Create("a", overheat("t > 80"), "k", r)).reply());
        ok(kit.<RuleSet.Reply>runCommand(r -> new RuleSet.Create("a", overheat("t > 80"), "k", r)).reply());
        assertEquals(1, kit.getState().setVersion(), "the same create twice persists once");
        rejected(kit.<RuleSet.Reply>runCommand(r -> new RuleSet.Create("a", overheat("t > 99"), "k", r)).reply(),
                RuleSet.Rejection.ALREADY_EXISTS);
        ok(kit.<RuleSet.Reply>runCommand(r -> new RuleSet.Create("b", overheat("t > 80"), "k", r)).reply());
        ok(kit.<RuleSet.Reply>runCommand(r -> new RuleSet.Create("c", overheat("t > 80"), "k", r)).reply());
        rejected(kit.<RuleSet.Reply>runCommand(r -> new RuleSet.Create("d", overheat("t > 80"), "k", r)).reply(),
                RuleSet.Rejection.TOO_MANY_RULES);
        ok(kit.<RuleSet.Reply>runCommand(r -> new RuleSet.Delete("b", "k", r)).reply());
        ok(kit.<RuleSet.Reply>runCommand(r -> new RuleSet.Create("d", overheat("t > 80"), "k", r)).reply());
        rejected(kit.<RuleSet.Reply>runCommand(r -> new RuleSet.GetRule("b", r)).reply(), RuleSet.Rejection.NOT_FOUND);
        rejected(kit.<RuleSet.Reply>runCommand(r -> new RuleSet.Create("b", overheat("t > 80"), "k", r)).reply(),
                RuleSet.Rejection.ALREADY_EXISTS);
        RuleSet.All all = assertInstanceOf(RuleSet.All.class, kit.<RuleSet.Reply>runCommand(RuleSet.GetAll::new).reply());
        assertEquals(List.of("a", "c", "d"), all.rules().stream().map(RuleSet.RuleView::id).toList());
        assertEquals(kit.getState().setVersion(), all.setVersion());
    }
}
