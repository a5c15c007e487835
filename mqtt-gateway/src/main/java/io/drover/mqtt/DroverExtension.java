package io.drover.mqtt;

import com.hivemq.extension.sdk.api.ExtensionMain;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartOutput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopOutput;
import com.hivemq.extension.sdk.api.services.Services;

/**
 * Drover inside the embedded broker: device authentication, the device ACL, the inbound router and the session lifecycle.
 * Registered as an embedded extension, so no extension folder is involved.
 */
final class DroverExtension implements ExtensionMain {

    private final DeviceAuthenticator authenticator;
    private final DeviceAuthorizer authorizer;
    private final InboundRouter router;
    private final ConnectivityListener connectivity;

    DroverExtension(DeviceAuthenticator authenticator, DeviceAuthorizer authorizer, InboundRouter router,
            ConnectivityListener connectivity) {
        this.authenticator = authenticator;
        this.authorizer = authorizer;
        this.router = router;
        this.connectivity = connectivity;
    }

    @Override
    public void extensionStart(ExtensionStartInput input, ExtensionStartOutput output) {
        Services.securityRegistry().setAuthenticatorProvider(providerInput -> authenticator);
        Services.securityRegistry().setAuthorizerProvider(providerInput -> authorizer);
        Services.eventRegistry().setClientLifecycleEventListener(providerInput -> connectivity);
        Services.initializerRegistry().setClientInitializer(
                (initializerInput, clientContext) -> clientContext.addPublishInboundInterceptor(router));
    }

    @Override
    public void extensionStop(ExtensionStopInput input, ExtensionStopOutput output) {
        // nothing to release: the gateway owns the ingest stream and drains it on shutdown
    }
}
