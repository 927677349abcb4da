package io.kdiag.statuswriter.query;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.Supplier;

import io.kdiag.model.EventSummary;
import io.kdiag.model.FoldState;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.statuswriter.fold.StatusFoldTopology;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Reads snapshots and event histories from this instance's stores, over all of its partitions. With several
 * instances each one sees only the abnormals of its own partitions. Every method throws
 * {@link org.apache.kafka.streams.errors.InvalidStateStoreException} while the stores cannot be queried
 * (starting, rebalancing, stopped).
 */
public final class StatusQueries {
    private static final Comparator<AbnormalStatus> BY_NAME = Comparator.comparing(AbnormalStatus::getNamespace)
            .thenComparing(AbnormalStatus::getName)
            .thenComparing(StatusQueries::startTime)
            .thenComparing(AbnormalStatus::getUid);

    private final Supplier<ReadOnlyKeyValueStore<String, FoldState>> folds;

    StatusQueries(Supplier<ReadOnlyKeyValueStore<String, FoldState>> folds) {
        this.folds = folds;
    }

    /** Interactive queries on the running application's local stores. */
    public static StatusQueries of(KafkaStreams streams) {
        return new StatusQueries(() -> streams.store(StoreQueryParameters.fromNameAndType(StatusFoldTopology.STORE_NAME,
                QueryableStoreTypes.<String, FoldState>keyValueStore())));
    }

    /** Every accepted abnormal, of one namespace when {@code namespace} is not null, by namespace, name and start. */
    public List<AbnormalStatus> list(String namespace) {
        List<AbnormalStatus> snapshots = snapshots(s -> namespace == null || namespace.equals(s.getNamespace()));
        snapshots.sort(BY_NAME);
        return snapshots;
    }

    /** The latest run (by start time) of the abnormal with this namespace and name. */
    Optional<AbnormalStatus> newest(String namespace, String name) {
        return snapshots(s -> s.getNamespace().equals(namespace) && s.getName().equals(name)).stream()
                .max(Comparator.comparing(StatusQueries::startTime).thenComparing(AbnormalStatus::getUpdatedAt));
    }

    /** Summaries of the abnormal's latest events in seq order; empty when none are kept. */
    List<Map<String, Object>> history(String uid) {
        FoldState state = folds.get().get(uid);
        return state == null ? List.of() : state.history().stream().map(EventSummary::toMap).toList();
    }

    private List<AbnormalStatus> snapshots(Predicate<AbnormalStatus> filter) {
        List<AbnormalStatus> snapshots = new ArrayList<>();
        try (KeyValueIterator<String, FoldState> it = folds.get().all()) {
            while (it.hasNext()) {
                KeyValue<String, FoldState> next = it.next();
                AbnormalStatus current = next.value.current();
                if (current != null && filter.test(current)) {
                    snapshots.add(current);
                }
            }
        }
        return snapshots;
    }

    private static Instant startTime(AbnormalStatus snapshot) {
        return snapshot.getStartTime() == null ? snapshot.getUpdatedAt() : snapshot.getStartTime();
    }
}
