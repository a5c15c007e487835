package io.drover.mqtt;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.hivemq.extension.sdk.api.services.Services;
import com.hivemq.extension.sdk.api.services.builder.Builders;
import com.hivemq.extension.sdk.api.services.publish.PublishToClientResult;
import com.hivemq.extension.sdk.api.packets.general.Qos;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * Platform→device messages through the embedded broker, addressed to the device's own session
 * (client id), never to a bare topic: two tenants' devices with the same id cannot receive each
 * other's messages. Delivered only when the device subscribed to the topic.
 */
final class Outbound {

    static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private Outbound() {}

    static CompletableFuture<PublishToClientResult> send(String clientId, String topic, Object body) {
        try {
            byte[] bytes = JSON.writeValueAsBytes(body);
            return Services.publishService().publishToClient(Builders.publish().topic(topic).qos(Qos.AT_LEAST_ONCE)
                    .payload(ByteBuffer.wrap(bytes)).build(), clientId);
        } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Why a message was not taken: {@code devices/{id}/errors}. */
    static void error(String clientId, String deviceId, String topic, String code, String detail) {
        send(clientId, Topics.errors(deviceId), errorBody(topic, code, detail));
    }

    /** The body of an error message: {@code {"code", "detail", "topic", "at"}}. */
    static ObjectNode errorBody(String topic, String code, String detail) {
        ObjectNode body = JSON.createObjectNode();
        body.put("code", code);
        body.put("detail", detail);
        body.put("topic", topic);
        body.put("at", Instant.now().toString());
        return body;
    }

    /** The payload as a JSON object, if it is one. */
    static java.util.Optional<ObjectNode> jsonObject(byte[] payload) {
        try {
            com.fasterxml.jackson.databind.JsonNode n = JSON.readTree(payload);
            return n != null && n.isObject() ? java.util.Optional.of((ObjectNode) n) : java.util.Optional.empty();
        } catch (Exception e) {
            return java.util.Optional.empty();
        }
    }
}
