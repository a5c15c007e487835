package io.drover.gatling;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.during;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.util.UUID;

/**
 * REST mix per virtual user: create a device, then for the duration: write and read its shadow, send
 * telemetry through the device API, query it raw, aggregated and latest. Fails (assertion) above 1% errors.
 * {@code -Dusers=20 -DdurationSeconds=20 -Ddrover.api=http://127.0.0.1:8080 -Ddrover.adminKeyFile=data/admin-api-key}
 */
public class RestSimulation extends Simulation {

    private final Fleet fleet = new Fleet(0);

    private final HttpProtocolBuilder protocol = http.baseUrls(Fleet.apiBases())
            .authorizationHeader("Bearer " + fleet.key)
            .acceptHeader("application/json")
            .shareConnections();

    private final ScenarioBuilder devices = scenario("device life")
            .exec(session -> session.set("dev", "r-" + UUID.randomUUID().toString().substring(0, 12)).set("n", 0))
            .exec(http("create device").post("/devices").header("Content-Type", "application/json")
                    .body(StringBody("{\"id\":\"#{dev}\",\"type\":\"gatling\"}"))
                    .check(status().is(201), jsonPath("$.token").saveAs("token")))
            .exec(during(Fleet.SECONDS).on(exec(session -> session.set("n", session.getInt("n") + 1))
                    .exec(http("shadow write").patch("/devices/#{dev}/shadow/desired")
                            .header("Content-Type", "application/merge-patch+json")
                            .body(StringBody("{\"setpoint\": #{n}}")).check(status().is(200)))
                    .exec(http("shadow read").get("/devices/#{dev}/shadow").check(status().is(200)))
                    .exec(http("telemetry via device api").post("/device-api/telemetry")
                            .header("Content-Type", "application/json")
                            .header("X-Device-Id", fleet.tenant + ":#{dev}")
                            .header("Authorization", "Bearer #{token}")
                            .body(StringBody("{\"values\":{\"t\": #{n}.5, \"h\": 40}}")).check(status().is(200)))
                    .exec(http("telemetry raw").get("/devices/#{dev}/telemetry?keys=t,h&limit=100").check(status().is(200)))
                    .exec(http("telemetry avg 1h").get("/devices/#{dev}/telemetry?keys=t&agg=avg&interval=1h")
                            .check(status().is(200)))
                    .exec(http("telemetry latest").get("/devices/#{dev}/telemetry/latest").check(status().is(200)))));

    {
        setUp(devices.injectOpen(rampUsers(Fleet.USERS).during(Math.max(1, Fleet.SECONDS / 4))))
                .protocols(protocol)
                .assertions(global().failedRequests().percent().lt(1.0));
    }
}
