package io.kdiag.stageworkers;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.spi.StageWorker;

/** The workers an agent can run, by name. An object rather than static state, so tests hand it the workers they need. */
public final class WorkerCatalog {
    private final Map<String, StageWorker> byName = new LinkedHashMap<>();

    /**
     * A catalogue of these workers.
     *
     * @throws IllegalArgumentException if two workers share a name
     */
    public WorkerCatalog(Collection<? extends StageWorker> workers) {
        for (StageWorker worker : workers) {
            if (byName.putIfAbsent(worker.name(), worker) != null) {
                throw new IllegalArgumentException("two stage workers are named " + worker.name());
            }
        }
    }

    /** Every worker on the class path, found through {@code META-INF/services/io.kdiag.stageworkers.spi.StageWorker}. */
    public static WorkerCatalog builtIns() {
        return new WorkerCatalog(ServiceLoader.load(StageWorker.class, WorkerCatalog.class.getClassLoader()).stream()
                .map(ServiceLoader.Provider::get)
                .toList());
    }

    /** Every worker of a stage, in the order they were given (class-path order for {@link #builtIns()}). */
    public List<StageWorker> ofStage(Stage stage) {
        return byName.values().stream().filter(w -> w.stage() == stage).toList();
    }

    /** The worker with this name. */
    public Optional<StageWorker> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }
}
