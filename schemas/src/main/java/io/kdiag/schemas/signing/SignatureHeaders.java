package io.kdiag.schemas.signing;

/**
 * Header names on a {@code kdiag.abnormals} record. The signature covers the record's key, its value and the key id
 * header; the agent reads no other header of the record, so no other needs signing.
 */
public final class SignatureHeaders {
    /** Id of the key that signed the record, UTF-8: the first 8 bytes of the SHA-256 of its public key (X.509), in hex. */
    public static final String KEY_ID = "kdiag.signature.key-id";
    /** The Ed25519 signature, 64 raw bytes. */
    public static final String SIGNATURE = "kdiag.signature";

    private SignatureHeaders() {
    }
}
