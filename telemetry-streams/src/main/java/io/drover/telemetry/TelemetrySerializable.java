package io.drover.telemetry;

/** Marker of the telemetry module's messages that cross nodes; bound to jackson-cbor in reference.conf. */
public interface TelemetrySerializable {}
