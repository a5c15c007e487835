package io.drover.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.util.stream.Collectors;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaType;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCode;

/**
 * The API's JSON: strict reading (unknown fields and wrong types are errors that name the field),
 * ISO-8601 times, no nulls written. Parse failures become {@link ApiProblem}s, never 500s.
 */
public final class ApiJson {

    public static final MediaType.WithFixedCharset PROBLEM_MEDIA_TYPE =
            MediaTypes.applicationWithFixedCharset("problem+json", HttpCharsets.UTF_8);
    public static final ContentType PROBLEM = PROBLEM_MEDIA_TYPE.toContentType();
    public static final MediaType.WithFixedCharset MERGE_PATCH =
            MediaTypes.applicationWithFixedCharset("merge-patch+json", HttpCharsets.UTF_8);

    public static final ObjectMapper MAPPER = createMapper();

    private ApiJson() {}

    private static ObjectMapper createMapper() {
        JsonMapper m = JsonMapper.builder()
                .addModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .serializationInclusion(JsonInclude.Include.NON_NULL)
                .build();
        // "name": 5 is a wrong type, not the string "5".
        m.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        m.coercionConfigFor(LogicalType.Integer).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        return m;
    }

    /** Reads a request body into {@code type}; every failure is a 400 that says what and where. */
    public static <T> T read(byte[] body, Class<T> type) {
        if (body.length == 0) {
            throw ApiProblem.badRequest("empty-body", "the request needs a JSON body");
        }
        try {
            T value = MAPPER.readValue(body, type);
            if (value == null) {
                throw ApiProblem.badRequest("invalid-body", "the body must be a JSON object");
            }
            return value;
        } catch (UnrecognizedPropertyException e) {
            throw new ApiProblem(org.apache.pekko.http.javadsl.model.StatusCodes.BAD_REQUEST, "unknown-field",
                    "unknown field '" + e.getPropertyName() + "'", java.util.Map.of("field", path(e)));
        } catch (MismatchedInputException e) {
            String field = path(e);
            if (field.isEmpty()) {
                throw ApiProblem.badRequest("invalid-body", "the body must be a JSON object");
            }
            throw ApiProblem.invalidField(field, "field '" + field + "' has the wrong type" + expected(e));
        } catch (JsonMappingException e) {
            String field = path(e);
            throw ApiProblem.invalidField(field, "field '" + field + "' is invalid" + expected(e));
        } catch (JsonProcessingException e) {
            throw ApiProblem.badRequest("malformed-json", "the body is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw ApiProblem.badRequest("malformed-json", "the body could not be read");
        }
    }

    /** Reads a body that must be a JSON object (merge patches). */
    public static ObjectNode readObject(byte[] body) {
        JsonNode node = read(body, JsonNode.class);
        if (!node.isObject()) {
            throw ApiProblem.badRequest("invalid-body", "the body must be a JSON object");
        }
        return (ObjectNode) node;
    }

    /**
     * What the field should have been, in words a client understands: never Jackson's own message, which names
     * Java types and classes. Our own checks (an IllegalArgumentException from a body record) speak for themselves.
     */
    private static String expected(JsonMappingException e) {
        if (e.getCause() instanceof IllegalArgumentException iae && iae.getMessage() != null
                && !iae.getMessage().contains("java.")) {
            return ": " + iae.getMessage();
        }
        Class<?> t = e instanceof MismatchedInputException m ? m.getTargetType() : null;
        if (t == null) {
            return "";
        }
        if (java.time.temporal.Temporal.class.isAssignableFrom(t)) {
            return ": expected an ISO-8601 instant such as 2026-01-01T00:00:00Z";
        }
        if (t.isEnum()) {
            return ": expected one of " + java.util.Arrays.stream(t.getEnumConstants())
                    .map(c -> c.toString().toLowerCase()).collect(Collectors.joining(", "));
        }
        if (t == Integer.class || t == int.class || t == Long.class || t == long.class) {
            return ": expected a whole number";
        }
        if (Number.class.isAssignableFrom(t) || t.isPrimitive() && t != boolean.class) {
            return ": expected a number";
        }
        if (t == Boolean.class || t == boolean.class) {
            return ": expected true or false";
        }
        return "";
    }

    private static String path(JsonMappingException e) {
        return e.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining("."));
    }

    public static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write response", e);
        }
    }

    public static HttpResponse response(StatusCode status, Object body) {
        return HttpResponse.create().withStatus(status)
                .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, bytes(body)));
    }
}
