package io.drover.gatling;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.during;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.listFeeder;
import static io.gatling.javaapi.core.CoreDsl.pace;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;
import static io.gatling.javaapi.http.HttpDsl.ws;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.time.Duration;

/**
 * WebSocket: each subscriber opens {@code /api/v1/ws}, subscribes to one device, then keeps asking for the
 * next telemetry frame of it (a check on the next matching frame, 10 s at most) while a publisher scenario
 * sends telemetry for every device through the HTTP device API, 5 messages a second each.
 */
public class LiveSimulation extends Simulation {

    private final Fleet fleet = new Fleet(Math.max(1, Fleet.USERS));

    private final HttpProtocolBuilder protocol = http.baseUrls(Fleet.apiBases())
            .wsBaseUrl(Fleet.API.replaceFirst("^http", "ws"))
            .acceptHeader("application/json");

    private final ScenarioBuilder subscribers = scenario("live subscriber")
            .feed(listFeeder(fleet.devices).queue())
            .exec(ws("connect").connect("/api/v1/ws?access_token=" + fleet.key))
            .exec(ws("subscribe").sendText("{\"type\":\"subscribe\",\"id\":\"s\",\"deviceIds\":[\"#{dev}\"]}")
                    .await(10).on(ws.checkTextMessage("subscribed").check(jsonPath("$.type").is("subscribed"))))
            .exec(during(Fleet.SECONDS).on(exec(ws("next telemetry frame")
                    .sendText("{\"type\":\"subscribe\",\"id\":\"again\",\"deviceIds\":[\"#{dev}\"]}")
                    .await(10).on(ws.checkTextMessage("telemetry").matching(jsonPath("$.type").is("telemetry"))
                            .check(jsonPath("$.deviceId").isEL("#{dev}"))))))
            .exec(ws("close").close());

    private final ScenarioBuilder publishers = scenario("device publisher")
            .feed(listFeeder(fleet.devices).queue())
            .exec(during(Fleet.SECONDS + 5).on(pace(Duration.ofMillis(200)).exec(http("telemetry via device api")
                    .post("/device-api/telemetry").header("Content-Type", "application/json")
                    .header("X-Device-Id", "#{deviceHeader}").header("Authorization", "Bearer #{token}")
                    .body(StringBody("{\"values\":{\"t\": 21.5}}")).check(status().is(200)))));

    {
        setUp(subscribers.injectOpen(rampUsers(fleet.devices.size()).during(2)),
                publishers.injectOpen(rampUsers(fleet.devices.size()).during(2)))
                .protocols(protocol)
                .assertions(global().failedRequests().percent().lt(1.0));
    }
}
