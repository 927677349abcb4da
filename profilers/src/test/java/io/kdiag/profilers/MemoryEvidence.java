package io.kdiag.profilers;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.kdiag.schemas.Evidence;
import io.kdiag.stageworkers.spi.EvidenceStore;

/** Evidence kept in memory, found again by the path a page links it with. */
final class MemoryEvidence implements EvidenceStore {
    private static final Pattern LINK = Pattern.compile("href=\"([0-9a-f]{64}\\?[^\"]+)\"");

    private record Kept(Evidence.Reference reference, byte[] content) {
    }

    private final Map<String, Kept> byPath = new ConcurrentHashMap<>();
    private long nextOffset;

    @Override
    public synchronized Evidence.Reference store(byte[] content, String contentType) {
        try {
            String sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
            List<Long> offsets = new ArrayList<>();
            for (long i = 0, n = Math.max(1, (content.length + Evidence.CHUNK_BYTES - 1) / Evidence.CHUNK_BYTES); i < n; i++) {
                offsets.add(nextOffset++);
            }
            Evidence.Reference reference = new Evidence.Reference("kdiag.evidence", 0, offsets, sha256, content.length, contentType);
            byPath.put(reference.path(), new Kept(reference, content.clone()));
            return reference;
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** How many values were kept. */
    int size() {
        return byPath.size();
    }

    /** The bytes of a kept value. */
    byte[] bytes(Evidence.Reference reference) {
        return byPath.get(reference.path()).content().clone();
    }

    /** The text of a kept value. */
    String text(Evidence.Reference reference) {
        return new String(bytes(reference), StandardCharsets.UTF_8);
    }

    /** The value a page links to, as the status writer would resolve its link next to the page. */
    Evidence.Reference linked(Evidence.Reference page) {
        Matcher link = LINK.matcher(text(page));
        if (!link.find()) {
            throw new AssertionError("no link to a raw file in " + text(page));
        }
        Kept raw = byPath.get(link.group(1).replace("&amp;", "&"));
        if (raw == null) {
            throw new AssertionError("the page links " + link.group(1) + ", which is no value kept");
        }
        return raw.reference();
    }
}
