package io.drover.device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import java.time.Clock;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;

/** Laws of the shadow rules, checked on generated documents and patches. */
class ShadowPropertiesTest {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final List<String> KEYS = List.of("a", "b", "c", "d");

    // ---------------------------------------------------------------- generators

    private static Arbitrary<JsonNode> leaf() {
        return Arbitraries.oneOf(
                Arbitraries.integers().between(-3, 3).map(i -> (JsonNode) NODES.numberNode(i)),
                Arbitraries.of("x", "y").map(s -> (JsonNode) NODES.textNode(s)),
                Arbitraries.of(true, false).map(b -> (JsonNode) NODES.booleanNode(b)),
                Arbitraries.integers().between(0, 2).map(n -> {
                    var arr = NODES.arrayNode();
                    for (int i = 0; i < n; i++) {
                        arr.add(i);
                    }
                    return (JsonNode) arr;
                }));
    }

    /** A document: objects of keys a..d, no nulls (documents never hold null: null means delete). */
    private static Arbitrary<ObjectNode> document(int depth) {
        Arbitrary<JsonNode> value = depth == 0 ? leaf()
                : Arbitraries.oneOf(leaf(), leaf(), document(depth - 1).map(o -> (JsonNode) o));
        return Arbitraries.maps(Arbitraries.of(KEYS), value).ofMaxSize(4).map(ShadowPropertiesTest::toObject);
    }

    /** A patch: like a document, but a value may also be null (delete). */
    private static Arbitrary<ObjectNode> patch(int depth) {
        Arbitrary<JsonNode> value = depth == 0
                ? Arbitraries.oneOf(leaf(), Arbitraries.just((JsonNode) NODES.nullNode()))
                : Arbitraries.oneOf(leaf(), Arbitraries.just((JsonNode) NODES.nullNode()),
                        patch(depth - 1).map(o -> (JsonNode) o));
        return Arbitraries.maps(Arbitraries.of(KEYS), value).ofMaxSize(4).map(ShadowPropertiesTest::toObject);
    }

    private static ObjectNode toObject(Map<String, JsonNode> m) {
        ObjectNode o = NODES.objectNode();
        m.forEach(o::set);
        return o;
    }

    @Provide
    Arbitrary<ObjectNode> documents() {
        return document(2);
    }

    @Provide
    Arbitrary<ObjectNode> patches() {
        return patch(2);
    }

    private static boolean containsNull(JsonNode n) {
        if (n.isNull()) {
            return true;
        }
        Iterator<JsonNode> it = n.elements();
        while (it.hasNext()) {
            if (containsNull(it.next())) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- merge-patch laws

    @Property
    boolean emptyPatchIsIdentity(@ForAll("documents") ObjectNode doc) {
        return Shadows.mergePatch(doc, NODES.objectNode()).equals(doc);
    }

    @Property
    boolean mergeIsIdempotent(@ForAll("documents") ObjectNode doc, @ForAll("patches") ObjectNode p) {
        ObjectNode once = Shadows.mergePatch(doc, p);
        return Shadows.mergePatch(once, p).equals(once);
    }

    @Property
    boolean resultHoldsNoNull(@ForAll("documents") ObjectNode doc, @ForAll("patches") ObjectNode p) {
        return !containsNull(Shadows.mergePatch(doc, p));
    }

    @Property
    boolean patchingWithADocumentMakesItsLeavesPresent(@ForAll("documents") ObjectNode doc, @ForAll("documents") ObjectNode p) {
        // every leaf of a null-free patch is found at its path afterwards
        return Shadows.delta(p, Shadows.mergePatch(doc, p)).isEmpty();
    }

    @Property
    boolean inputsAreNeverChanged(@ForAll("documents") ObjectNode doc, @ForAll("patches") ObjectNode p) {
        ObjectNode docCopy = doc.deepCopy();
        ObjectNode patchCopy = p.deepCopy();
        Shadows.mergePatch(doc, p);
        Shadows.delta(doc, p);
        return doc.equals(docCopy) && p.equals(patchCopy);
    }

    // ---------------------------------------------------------------- delta laws

    /** Delta is empty exactly when reported already covers desired: applying desired to it changes nothing. */
    @Property
    boolean deltaEmptyIffReportedCoversDesired(@ForAll("documents") ObjectNode desired, @ForAll("documents") ObjectNode reported) {
        boolean covered = Shadows.mergePatch(reported, desired).equals(reported);
        return Shadows.delta(desired, reported).isEmpty() == covered;
    }

    @Property
    boolean deltaIsPartOfDesired(@ForAll("documents") ObjectNode desired, @ForAll("documents") ObjectNode reported) {
        ObjectNode delta = Shadows.delta(desired, reported);
        return Shadows.mergePatch(desired, delta).equals(desired);
    }

    // ---------------------------------------------------------------- entity: version strictly increasing

    private static final ActorTestKit testKit = ActorTestKit.create(
            EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));
    private static final AtomicInteger ids = new AtomicInteger();

    @AfterContainer
    static void shutdown() {
        testKit.shutdownTestKit();
    }

    @Property(tries = 40)
    boolean versionIncreasesWithEveryChangeAndOnlyThen(
            @ForAll("patchLists") List<ObjectNode> patches, @ForAll("flags") List<Boolean> desiredFlags) {
        var kit = EventSourcedBehaviorTestKit.<Device.Command, Device.Event, Device.State>create(testKit.system(),
                Device.create("prop:d" + ids.incrementAndGet(), new DeviceSettings(32 * 1024, 100, 2), Clock.systemUTC()));
        kit.<Device.Reply>runCommand(r -> new Device.Register("n", null, null, null, r));
        long version = 0;
        for (int i = 0; i < patches.size(); i++) {
            ObjectNode p = patches.get(i);
            boolean desired = desiredFlags.get(i % desiredFlags.size());
            ObjectNode before = desired ? kit.getState().desired() : kit.getState().reported();
            var result = kit.<Device.Reply>runCommand(r -> desired
                    ? new Device.UpdateDesired(p, Optional.empty(), r)
                    : new Device.UpdateReported(p, Optional.empty(), r));
            long now = kit.getState().shadowVersion();
            boolean changed = !Shadows.mergePatch(before, p).equals(before);
            if (changed ? now != version + 1 || result.hasNoEvents() : now != version || !result.hasNoEvents()) {
                return false;
            }
            version = now;
        }
        return true;
    }

    @Provide
    Arbitrary<List<ObjectNode>> patchLists() {
        return patch(1).list().ofMinSize(1).ofMaxSize(8);
    }

    @Provide
    Arbitrary<List<Boolean>> flags() {
        return Arbitraries.of(true, false).list().ofMinSize(1).ofMaxSize(8);
    }
}
