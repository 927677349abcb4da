package io.kdiag.sourcebridge.gate;

import java.util.Objects;

import io.kdiag.schemas.avro.AbnormalRequest;

/**
 * An abnormal a source asks the {@link Gate} to forward.
 *
 * @param source metric tag of the source ({@code custom-resource}, {@code kubernetes-event}, {@code prometheus-alert},
 *     {@code log}); bounded
 * @param request the request, not yet validated; its uid is its identity: a uid already forwarded is a duplicate
 * @param repeatKey what makes two occurrences "the same fault" for the repeat interval (an alert's fingerprint, an event's
 *     namespace/name, a log rule's reason), or {@code null} when only the uid counts
 * @param stormLimited whether the per-node and cluster-wide storm limits apply (automatic sources, not explicit requests)
 * @param mirror whether to create an Abnormal CR for it once forwarded (everything that did not start as a CR)
 */
public record Submission(String source, AbnormalRequest request, String repeatKey, boolean stormLimited, boolean mirror) {
    /** Checks the required parts. */
    public Submission {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(request, "request");
    }
}
