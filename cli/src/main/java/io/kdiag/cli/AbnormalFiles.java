package io.kdiag.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;

/** Reads Abnormal manifests. */
public final class AbnormalFiles {
    /** Annotation of an example: the phase it must end in (default Succeeded). */
    static final String EXPECTED_PHASE = Annotations.EXPECTED_PHASE;

    private AbnormalFiles() {
    }

    /** Reads one Abnormal; a missing node is filled in with {@code defaultNode} when there is one. */
    public static Abnormal read(Path file, String defaultNode) throws IOException {
        Abnormal abnormal;
        try {
            abnormal = ApiSerialization.abnormal(Files.readString(file));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + " is not an Abnormal manifest: " + e.getMessage(), e);
        }
        if (abnormal == null || abnormal.getMetadata() == null || abnormal.getMetadata().getName() == null) {
            throw new IllegalArgumentException(file + ": metadata.name is required");
        }
        if (abnormal.getSpec() == null) {
            throw new IllegalArgumentException(file + ": spec is required");
        }
        if (abnormal.getSpec().nodeName == null && abnormal.getSpec().podReference == null) {
            if (defaultNode == null) {
                throw new IllegalArgumentException(file + ": spec.nodeName is required (or run against 'kdiag up', whose node is used)");
            }
            abnormal.getSpec().nodeName = defaultNode;
        }
        return abnormal;
    }

    public static String expectedPhase(Abnormal abnormal) {
        var annotations = abnormal.getMetadata().getAnnotations();
        return annotations == null ? "Succeeded" : annotations.getOrDefault(EXPECTED_PHASE, "Succeeded");
    }
}
