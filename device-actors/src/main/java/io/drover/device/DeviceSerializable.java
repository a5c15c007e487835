package io.drover.device;

/**
 * Marker for every message, event and snapshot of the device bounded context. Bound to
 * {@code jackson-cbor} in this module's {@code reference.conf}; Java serialization stays off.
 */
public interface DeviceSerializable {}
