package io.drover.gatling;

import static io.gatling.javaapi.core.CoreDsl.constantConcurrentUsers;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.listFeeder;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;

/**
 * Shadow GET throughput and latency: {@code users} concurrent clients (closed model), each reading the
 * shadow of one of 100 devices as fast as answers come, for the duration. Target (issue 5): ≥ 5k req/s
 * with p99 ≤ 20 ms; reported, not asserted — the assertion is on errors.
 */
public class ShadowReadSimulation extends Simulation {

    private final Fleet fleet = new Fleet(100);

    private final HttpProtocolBuilder protocol = http.baseUrls(Fleet.apiBases())
            .authorizationHeader("Bearer " + fleet.key)
            .acceptHeader("application/json");

    private final ScenarioBuilder reads = scenario("shadow reads")
            .feed(listFeeder(fleet.devices).circular())
            .forever().on(http("shadow read").get("/devices/#{dev}/shadow").check(status().is(200)));

    {
        setUp(reads.injectClosed(constantConcurrentUsers(Fleet.USERS).during(Fleet.SECONDS)))
                .protocols(protocol)
                .maxDuration(java.time.Duration.ofSeconds(Fleet.SECONDS))
                .assertions(global().failedRequests().percent().lt(1.0));
    }
}
