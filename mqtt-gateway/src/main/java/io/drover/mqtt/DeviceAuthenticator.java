package io.drover.mqtt;

import com.hivemq.extension.sdk.api.async.Async;
import com.hivemq.extension.sdk.api.async.TimeoutFallback;
import com.hivemq.extension.sdk.api.auth.SimpleAuthenticator;
import com.hivemq.extension.sdk.api.auth.parameter.SimpleAuthInput;
import com.hivemq.extension.sdk.api.auth.parameter.SimpleAuthOutput;
import com.hivemq.extension.sdk.api.client.parameter.ConnectionAttributeStore;
import com.hivemq.extension.sdk.api.packets.connect.ConnackReasonCode;
import io.drover.device.Credentials;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.device.X509;
import io.drover.shard.FailureLimiter;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Checks a connecting device against its twin: client id {@code tenant:device}, username empty or
 * equal to the client id, password = the device token, compared with the twin's hash — or, over TLS
 * without a password, a client certificate whose SHA-256 fingerprint the twin has registered. Provisioned
 * and active devices may connect; unknown, suspended and decommissioned ones are refused as not
 * authorized; a wrong token as bad username or password. The facts come from {@link AuthCache}, which
 * every credential or lifecycle change empties cluster-wide, so they take effect at the next connect
 * (and the twin also ends a live session).
 */
final class DeviceAuthenticator implements SimpleAuthenticator {

    /** Connection attribute: the credential the session authenticated with (see Device.RecordConnected). */
    static final String CREDENTIAL = "drover.credential";

    private final AuthCache cache;
    private final MqttSettings settings;
    private final MqttMetrics metrics;
    private final FailureLimiter failures;

    DeviceAuthenticator(AuthCache cache, MqttSettings settings, FailureLimiter failures, MqttMetrics metrics) {
        this.cache = cache;
        this.failures = failures;
        this.settings = settings;
        this.metrics = metrics;
    }

    @Override
    public void onConnect(SimpleAuthInput input, SimpleAuthOutput output) {
        String clientId = input.getClientInformation().getClientId();
        Optional<DeviceKey> key = DeviceIdentity.fromClientId(clientId);
        if (key.isEmpty()) {
            metrics.connect("invalid-client-id");
            output.failAuthentication(ConnackReasonCode.CLIENT_IDENTIFIER_NOT_VALID,
                    "the client id must be {tenantId}:{deviceId}");
            return;
        }
        Optional<String> user = input.getConnectPacket().getUserName();
        if (user.isPresent() && !user.get().isEmpty() && !user.get().equals(clientId)) {
            metrics.connect("bad-credentials");
            output.failAuthentication(ConnackReasonCode.BAD_USER_NAME_OR_PASSWORD,
                    "the username, when given, must equal the client id");
            return;
        }
        // Over TLS a device may present a client certificate (already validated against the truststore
        // by the broker) instead of its token; the twin must know the certificate's fingerprint.
        Optional<String> certificate = input.getConnectionInformation().getClientTlsInformation()
                .flatMap(t -> t.getClientCertificate()).map(X509::fingerprint);
        Optional<ByteBuffer> password = input.getConnectPacket().getPassword();
        if (certificate.isEmpty() && (password.isEmpty() || !password.get().hasRemaining())) {
            metrics.connect("bad-credentials");
            output.failAuthentication(ConnackReasonCode.BAD_USER_NAME_OR_PASSWORD,
                    "the password must be the device token (or present a registered client certificate over TLS)");
            return;
        }
        String token = password.filter(ByteBuffer::hasRemaining).map(p -> {
            ByteBuffer pw = p.asReadOnlyBuffer();
            byte[] bytes = new byte[pw.remaining()];
            pw.get(bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        }).orElse(null);

        ConnectionAttributeStore attributes = input.getConnectionInformation().getConnectionAttributeStore();
        // a source that failed too often is refused before any lookup (docs/security.md); a device this node knows
        // is still checked (that costs nothing), and its failure counts too
        String source = input.getConnectionInformation().getInetAddress().map(InetAddress::getHostAddress)
                .orElse("unknown");
        if (failures.blocked(source)) {
            Optional<AuthCache.Facts> known = cache.known(key.get());
            if (known.isPresent()) {
                decide(known, null, token, certificate, source, attributes, output);
            } else {
                metrics.connect("too-many-auth-failures");
                output.failAuthentication(ConnackReasonCode.QUOTA_EXCEEDED,
                        "too many failed authentications from this address; try again later");
            }
            return;
        }
        Async<SimpleAuthOutput> async = output.async(settings.authTimeout(), TimeoutFallback.FAILURE,
                ConnackReasonCode.SERVER_UNAVAILABLE, "the device registry did not answer in time");
        cache.lookup(key.get()).whenComplete((facts, err) -> {
            try {
                decide(facts, err, token, certificate, source, attributes, output);
            } finally {
                async.resume();
            }
        });
    }

    private void decide(Optional<AuthCache.Facts> facts, Throwable err, String token, Optional<String> certificate,
            String source, ConnectionAttributeStore attributes, SimpleAuthOutput output) {
        if (err != null) {
            metrics.connect("unavailable");
            output.failAuthentication(ConnackReasonCode.SERVER_UNAVAILABLE, "the device registry is unavailable");
        } else if (facts.isPresent()) {
            AuthCache.Facts d = facts.get();
            Device.Lifecycle state = d.lifecycle();
            if (state != Device.Lifecycle.PROVISIONED && state != Device.Lifecycle.ACTIVE) {
                metrics.connect(state.name().toLowerCase());
                output.failAuthentication(ConnackReasonCode.NOT_AUTHORIZED, "the device is " + state.name().toLowerCase());
            } else if (token != null ? Credentials.matches(token, d.tokenHash())
                    : certificate.get().equals(d.certificateFingerprint())) {
                metrics.connect(token != null ? "accepted" : "accepted-certificate");
                // the twin checks it again when the session is recorded (ConnectivityListener)
                attributes.putAsString(CREDENTIAL, token != null ? Device.RecordConnected.token(Credentials.hash(token))
                        : Device.RecordConnected.certificate(certificate.get()));
                output.authenticateSuccessfully();
            } else {
                failures.failed(source);
                metrics.connect("bad-credentials");
                output.failAuthentication(ConnackReasonCode.BAD_USER_NAME_OR_PASSWORD,
                        token != null ? "wrong device token" : "this client certificate is not registered for the device");
            }
        } else {
            failures.failed(source);
            metrics.connect("unknown-device");
            output.failAuthentication(ConnackReasonCode.NOT_AUTHORIZED, "unknown device");
        }
    }
}
