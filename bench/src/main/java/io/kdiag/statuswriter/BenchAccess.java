package io.kdiag.statuswriter;

import java.util.Map;
import java.util.Properties;

import io.kdiag.model.FoldState;
import io.kdiag.model.FoldStateSerde;
import io.kdiag.schemas.Topics;
import org.apache.kafka.common.serialization.Serde;

/**
 * The bench's window into the status writer's package: the fold's store format and Streams settings, so the plain
 * Kafka Streams aggregate it is compared with keeps the same value format and the same processing guarantee. Lives
 * in the bench module (same package name on the class path) so the status writer needs no public API for it.
 */
public final class BenchAccess {
    private BenchAccess() {
    }

    /** The serde of the fold's store values. */
    public static Serde<FoldState> foldStateSerde() {
        return new FoldStateSerde();
    }

    /** The Streams settings the status writer runs with (exactly_once_v2, its commit interval, ...). */
    public static Properties streamsProperties(StatusWriterConfig config, Map<String, Object> kafka, Topics topics) {
        return StatusWriter.streamsProperties(config, kafka, topics);
    }
}
