package io.drover.persistence;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Opaque pagination cursor over bucketed partitions: where the next page starts. */
public record Cursors(int bucket, String afterDeviceId) {

    public String encode() {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((bucket + ":" + afterDeviceId).getBytes(StandardCharsets.UTF_8));
    }

    public static Cursors decode(String cursor) {
        try {
            String s = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            int i = s.indexOf(':');
            return new Cursors(Integer.parseInt(s.substring(0, i)), s.substring(i + 1));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid cursor");
        }
    }
}
