package io.kdiag.nodeagent.processors;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.kdiag.api.Annotations;
import io.kdiag.api.v1.ProcessorSpec;
import io.kdiag.schemas.avro.Stage;

/** The processors registered as InformationCollector, Diagnoser and Recoverer resources. */
public interface Registrations {
    /** An agent without a cluster knows no registrations. */
    Registrations NONE = new Registrations() {
        @Override
        public Optional<Registered> find(Stage stage, String namespace, String name) {
            return Optional.empty();
        }

        @Override
        public List<HasMetadata> list(Stage stage) {
            return List.of();
        }
    };

    /**
     * A registration as the agent uses it.
     *
     * @param spec where the processor listens, and its {@code timeoutSeconds}
     * @param insecureSkipTlsVerify whether it carries {@link Annotations#INSECURE_SKIP_TLS_VERIFY}{@code : "true"}
     * @param requireApproval whether it carries {@link Annotations#REQUIRE_APPROVAL}{@code : "true"}: a recoverer that runs
     *     only after a person approved it
     */
    record Registered(ProcessorSpec spec, boolean insecureSkipTlsVerify, boolean requireApproval) {
        /** The registration a resource makes. */
        public static Registered of(HasMetadata resource, ProcessorSpec spec) {
            Map<String, String> annotations = resource.getMetadata().getAnnotations();
            return new Registered(spec == null ? new ProcessorSpec() : spec, isTrue(annotations, Annotations.INSECURE_SKIP_TLS_VERIFY),
                    isTrue(annotations, Annotations.REQUIRE_APPROVAL));
        }

        private static boolean isTrue(Map<String, String> annotations, String annotation) {
            return annotations != null && "true".equalsIgnoreCase(String.valueOf(annotations.get(annotation)).strip());
        }
    }

    /** The registration of that stage's kind at {@code namespace/name}. */
    Optional<Registered> find(Stage stage, String namespace, String name);

    /** Every registration of that stage's kind. */
    List<HasMetadata> list(Stage stage);
}
