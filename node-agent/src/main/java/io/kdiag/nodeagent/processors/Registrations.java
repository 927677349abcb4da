package io.kdiag.nodeagent.processors;

import java.util.List;
import java.util.Optional;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.kdiag.api.v1.ProcessorSpec;
import io.kdiag.schemas.avro.Stage;

/** The processors registered as InformationCollector, Diagnoser and Recoverer resources. */
public interface Registrations {
    /** An agent without a cluster knows no registrations. */
    Registrations NONE = new Registrations() {
        @Override
        public Optional<ProcessorSpec> find(Stage stage, String namespace, String name) {
            return Optional.empty();
        }

        @Override
        public List<HasMetadata> list(Stage stage) {
            return List.of();
        }
    };

    /** The spec of the registration of that stage's kind at {@code namespace/name}. */
    Optional<ProcessorSpec> find(Stage stage, String namespace, String name);

    /** Every registration of that stage's kind. */
    List<HasMetadata> list(Stage stage);
}
