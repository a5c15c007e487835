package io.drover.rules;

import java.util.Locale;

/** Alarm severities, most severe first (the order lists sort by). */
public enum Severity {
    CRITICAL, MAJOR, MINOR, WARNING, INDETERMINATE;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Null when {@code s} names no severity. */
    public static Severity parse(String s) {
        if (s == null) {
            return null;
        }
        for (Severity v : values()) {
            if (v.wire().equals(s)) {
                return v;
            }
        }
        return null;
    }
}
