package io.drover.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class ShadowsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode json(String s) throws Exception {
        return (ObjectNode) JSON.readTree(s);
    }

    @Test
    void rfc7386Examples() throws Exception {
        // From RFC 7386 appendix A.
        assertEquals(json("{\"a\":\"c\"}"), Shadows.mergePatch(json("{\"a\":\"b\"}"), json("{\"a\":\"c\"}")));
        assertEquals(json("{\"a\":\"b\",\"b\":\"c\"}"), Shadows.mergePatch(json("{\"a\":\"b\"}"), json("{\"b\":\"c\"}")));
        assertEquals(json("{}"), Shadows.mergePatch(json("{\"a\":\"b\"}"), json("{\"a\":null}")));
        assertEquals(json("{\"b\":\"c\"}"), Shadows.mergePatch(json("{\"a\":\"b\",\"b\":\"c\"}"), json("{\"a\":null}")));
        assertEquals(json("{\"a\":\"c\"}"), Shadows.mergePatch(json("{\"a\":[\"b\"]}"), json("{\"a\":\"c\"}")));
        assertEquals(json("{\"a\":[\"c\"]}"), Shadows.mergePatch(json("{\"a\":\"c\"}"), json("{\"a\":[\"c\"]}")));
        assertEquals(json("{\"a\":{\"b\":\"d\"}}"),
                Shadows.mergePatch(json("{\"a\":{\"b\":\"c\"}}"), json("{\"a\":{\"b\":\"d\",\"c\":null}}")));
        assertEquals(json("{\"a\":[1]}"), Shadows.mergePatch(json("{\"a\":[{\"b\":\"c\"}]}"), json("{\"a\":[1]}")));
        assertEquals(json("{\"a\":{\"bb\":{}}}"), Shadows.mergePatch(json("{}"), json("{\"a\":{\"bb\":{\"ccc\":null}}}")));
    }

    @Test
    void mergeNeverChangesItsInputs() throws Exception {
        ObjectNode target = json("{\"a\":{\"b\":1}}");
        ObjectNode patch = json("{\"a\":{\"b\":2,\"c\":3}}");
        Shadows.mergePatch(target, patch);
        assertEquals(json("{\"a\":{\"b\":1}}"), target);
        assertEquals(json("{\"a\":{\"b\":2,\"c\":3}}"), patch);
    }

    @Test
    void deltaComparesNestedObjectsKeyByKey() throws Exception {
        ObjectNode desired = json("{\"t\":{\"lo\":18,\"hi\":22},\"mode\":\"eco\",\"list\":[1,2]}");
        ObjectNode reported = json("{\"t\":{\"lo\":18,\"hi\":20,\"extra\":1},\"mode\":\"eco\",\"list\":[1],\"other\":5}");
        assertEquals(json("{\"t\":{\"hi\":22},\"list\":[1,2]}"), Shadows.delta(desired, reported));
        assertTrue(Shadows.delta(desired, Shadows.mergePatch(reported, desired)).isEmpty());
    }

    @Test
    void metadataFollowsLeaves() throws Exception {
        ObjectNode meta = Shadows.touchMetadata(Shadows.empty(), json("{\"a\":1,\"b\":{\"c\":2}}"), 100);
        assertEquals("{\"a\":{\"timestamp\":100},\"b\":{\"c\":{\"timestamp\":100}}}", meta.toString());
        meta = Shadows.touchMetadata(meta, json("{\"a\":null,\"b\":{\"d\":3}}"), 200);
        assertEquals("{\"b\":{\"c\":{\"timestamp\":100},\"d\":{\"timestamp\":200}}}", meta.toString());
    }
}
