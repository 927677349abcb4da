package io.kdiag.schemas.signing;

import java.nio.charset.StandardCharsets;

/**
 * What a signature is for: the first bytes it covers name the topic, so a record signed for one topic never verifies
 * as a record of another, even where the same key were trusted for both.
 */
public enum SignatureDomain {
    /** A request of {@code kdiag.abnormals}, signed by a gate. */
    ABNORMALS("kdiag.abnormals.v1"),
    /** A decision of {@code kdiag.approvals}, signed by an approver. */
    APPROVALS("kdiag.approvals.v1");

    private final byte[] prefix;

    SignatureDomain(String name) {
        this.prefix = (name + "\0").getBytes(StandardCharsets.US_ASCII);
    }

    /** The bytes themselves, not a copy: read on every signature and check, and never written by this package. */
    byte[] prefix() {
        return prefix;
    }
}
