package io.kdiag.sourcebridge.request;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.UUID;

/** Names and uids of the abnormals the bridge derives from events, alerts and log lines. */
public final class AbnormalNames {
    private static final int MAX_NAME = 253;

    private AbnormalNames() {
    }

    /**
     * {@code text} made a DNS-1123 subdomain: lower case, characters other than letters, digits, '-' and '.' become '-',
     * empty dot-separated parts dropped, each part trimmed of '-' at its ends, at most 253 characters.
     */
    public static String sanitize(String text) {
        String lower = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.-]", "-");
        StringBuilder name = new StringBuilder();
        for (String part : lower.split("\\.")) {
            String trimmed = part.replaceAll("^-+|-+$", "");
            if (!trimmed.isEmpty()) {
                if (name.length() > 0) {
                    name.append('.');
                }
                name.append(trimmed);
            }
        }
        String result = name.length() > MAX_NAME ? name.substring(0, MAX_NAME) : name.toString();
        return result.replaceAll("[.-]+$", "");
    }

    /** A uid derived from a stable key, so the same occurrence always gets the same uid. */
    public static String uid(String key) {
        return UUID.nameUUIDFromBytes(key.getBytes(StandardCharsets.UTF_8)).toString();
    }

    /** The first {@code length} hex digits of the SHA-256 of {@code text}. */
    public static String hash(String text, int length) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest).substring(0, length);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
