package io.drover.rules;

/**
 * Marker for every message, event and snapshot of the rules and alarms bounded context (rule sets, alarms,
 * rule state per device). Bound to {@code jackson-cbor} in this module's {@code reference.conf}.
 */
public interface RulesSerializable {}
