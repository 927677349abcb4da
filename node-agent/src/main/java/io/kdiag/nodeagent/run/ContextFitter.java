package io.kdiag.nodeagent.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

import io.kdiag.api.ApiSerialization;
import io.kdiag.schemas.Evidence;
import io.kdiag.stageworkers.spi.OutputJson;
import io.kdiag.stageworkers.spi.WorkResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a processor's context updates fit the limits: values move to the evidence topic, largest first, until the
 * updates are within {@code maxContextBytes} as JSON and their event within the record size Kafka takes. Each moved
 * value is stored, and acknowledged, before the event that references it is sent.
 */
public final class ContextFitter {
    private static final Logger LOG = LoggerFactory.getLogger(ContextFitter.class);

    /** What a processor's result becomes: {@code updatesJson} is its updates' JSON when it succeeded. */
    record Fitted(WorkResult result, String updatesJson) {
    }

    private final KeptEvidence evidence;
    private final OutputLimits limits;

    /** {@code evidence}: where values that do not fit go, as far as its limits allow. */
    public ContextFitter(KeptEvidence evidence, OutputLimits limits) {
        this.evidence = evidence;
        this.limits = limits;
    }

    /**
     * @param processor {@code namespace/name} of the processor that produced {@code result}, a succeeded one
     * @param eventBytes the encoded size of the result's event with updates of the given JSON
     */
    Fitted fit(AbnormalRun run, String processor, WorkResult result, ToIntFunction<OutputJson> eventBytes) {
        if (limits.fits(result.contextJson(), eventBytes)) {
            return new Fitted(result, result.contextJson().text());
        }
        Map<String, Object> updates = new LinkedHashMap<>(result.contextUpdates());
        Map<String, String> json = new LinkedHashMap<>();
        updates.forEach((key, value) -> json.put(key, ApiSerialization.json(value)));
        List<String> largestFirst = json.keySet().stream()
                .sorted(Comparator.comparingInt((String key) -> json.get(key).length()).reversed()).toList();
        for (String key : largestFirst) {
            byte[] content = json.get(key).getBytes(StandardCharsets.UTF_8);
            Evidence.Reference reference;
            try {
                reference = evidence.of(run).store(content, Evidence.JSON);
            } catch (KeptEvidence.LimitReached e) {
                return new Fitted(WorkResult.failed("EvidenceLimit", "processor " + processor + " produced context key " + key
                        + " of " + content.length + " bytes, too large for its event, and " + e.getMessage()), null);
            } catch (IOException | RuntimeException e) {
                return new Fitted(WorkResult.failed("OutputTooLarge", "processor " + processor + " produced more context than "
                        + limits.maxContextBytes() + " bytes and it cannot be kept as evidence: " + e.getMessage()), null);
            }
            updates.put(key, reference.toContextValue());
            LOG.info("context value kept as evidence uid={} node={} processor={} key={} bytes={} partition={} sha256={}",
                    run.uid(), run.nodeName(), processor, key, content.length, reference.partition(), reference.sha256());
            WorkResult fitted = WorkResult.succeeded(updates, result.removedKeys());
            if (limits.fits(fitted.contextJson(), eventBytes)) {
                return new Fitted(fitted, fitted.contextJson().text());
            }
        }
        return new Fitted(WorkResult.failed("OutputTooLarge", "processor " + processor + " produced " + updates.size()
                + " context keys, too many for one event even with every value kept as evidence"), null);
    }

    /** The largest encoded event a record takes. */
    int maxEventBytes() {
        return limits.maxEventBytes();
    }

    /** The limits it fits to. */
    OutputLimits limits() {
        return limits;
    }
}
