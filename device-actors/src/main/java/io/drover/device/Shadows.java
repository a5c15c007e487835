package io.drover.device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Map;

/**
 * Pure shadow-document rules: JSON merge patch (RFC 7386), the desired/reported delta and the
 * per-leaf "last updated" metadata. Every method returns a new tree and never changes its inputs,
 * so state built from these stays immutable.
 */
public final class Shadows {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Shadows() {}

    public static ObjectNode empty() {
        return NODES.objectNode();
    }

    /** RFC 7386: objects merge recursively, {@code null} deletes a key, anything else replaces. */
    public static ObjectNode mergePatch(ObjectNode target, ObjectNode patch) {
        ObjectNode result = target.deepCopy();
        applyInPlace(result, patch);
        return result;
    }

    private static void applyInPlace(ObjectNode target, ObjectNode patch) {
        Iterator<Map.Entry<String, JsonNode>> fields = patch.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> e = fields.next();
            JsonNode value = e.getValue();
            if (value.isNull()) {
                target.remove(e.getKey());
            } else if (value.isObject()) {
                JsonNode existing = target.get(e.getKey());
                ObjectNode child = existing != null && existing.isObject()
                        ? (ObjectNode) existing
                        : NODES.objectNode();
                applyInPlace(child, (ObjectNode) value);
                target.set(e.getKey(), child);
            } else {
                target.set(e.getKey(), value.deepCopy());
            }
        }
    }

    /**
     * The part of {@code desired} that {@code reported} does not match yet: every desired leaf whose
     * reported value differs or is missing; objects are compared key by key. Empty exactly when
     * reported covers desired.
     */
    public static ObjectNode delta(ObjectNode desired, ObjectNode reported) {
        ObjectNode delta = NODES.objectNode();
        Iterator<Map.Entry<String, JsonNode>> fields = desired.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> e = fields.next();
            JsonNode want = e.getValue();
            JsonNode have = reported.get(e.getKey());
            if (want.isObject() && have != null && have.isObject()) {
                ObjectNode sub = delta((ObjectNode) want, (ObjectNode) have);
                if (!sub.isEmpty()) {
                    delta.set(e.getKey(), sub);
                }
            } else if (!want.equals(have)) {
                delta.set(e.getKey(), want.deepCopy());
            }
        }
        return delta;
    }

    /**
     * Metadata tree after {@code patch} was applied at {@code timestampMillis}: each leaf the patch set
     * gets {@code {"timestamp": t}}, each key it deleted loses its metadata.
     */
    public static ObjectNode touchMetadata(ObjectNode metadata, ObjectNode patch, long timestampMillis) {
        ObjectNode result = metadata.deepCopy();
        touchInPlace(result, patch, timestampMillis);
        return result;
    }

    private static void touchInPlace(ObjectNode metadata, ObjectNode patch, long ts) {
        Iterator<Map.Entry<String, JsonNode>> fields = patch.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> e = fields.next();
            JsonNode value = e.getValue();
            if (value.isNull()) {
                metadata.remove(e.getKey());
            } else if (value.isObject() && !value.isEmpty()) {
                JsonNode existing = metadata.get(e.getKey());
                ObjectNode child = existing != null && existing.isObject() && !existing.has("timestamp")
                        ? (ObjectNode) existing
                        : NODES.objectNode();
                touchInPlace(child, (ObjectNode) value, ts);
                metadata.set(e.getKey(), child);
            } else {
                metadata.set(e.getKey(), NODES.objectNode().put("timestamp", ts));
            }
        }
    }

    /** Serialized JSON size in bytes (UTF-8), the measure the shadow size cap applies to. */
    public static int sizeInBytes(JsonNode doc) {
        try {
            return MAPPER.writeValueAsBytes(doc).length;
        } catch (Exception e) {
            throw new IllegalStateException("cannot serialize shadow document", e);
        }
    }
}
