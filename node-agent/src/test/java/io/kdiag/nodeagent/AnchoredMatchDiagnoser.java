package io.kdiag.nodeagent;

import java.util.LinkedHashMap;
import java.util.Map;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.builtin.ProcessMatchDiagnoser;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;

/**
 * A stricter process-match-diagnoser for {@link ShadowModeIT}, registered through the test class path's
 * META-INF/services: the pattern must match from the start of the command line, so a pattern that only matches an
 * argument identifies nothing here while process-match-diagnoser identifies it. It is what one would try in shadow mode.
 */
public final class AnchoredMatchDiagnoser implements StageWorker {
    private final ProcessMatchDiagnoser unanchored = new ProcessMatchDiagnoser();

    @Override
    public String name() {
        return "anchored-match-diagnoser";
    }

    @Override
    public Stage stage() {
        return Stage.Diagnosis;
    }

    @Override
    public WorkResult run(WorkContext ctx) {
        AbnormalSpec spec = ApiSerialization.spec(ApiSerialization.json(ctx.spec()));
        if (spec.context != null && spec.context.get(ProcessMatchDiagnoser.PROCESS_MATCH) instanceof Map<?, ?> match
                && match.get("commandPattern") instanceof String pattern) {
            Map<String, Object> anchored = new LinkedHashMap<>();
            match.forEach((k, v) -> anchored.put(String.valueOf(k), v));
            anchored.put("commandPattern", "^(?:" + pattern + ")");
            Map<String, Object> context = new LinkedHashMap<>(spec.context);
            context.put(ProcessMatchDiagnoser.PROCESS_MATCH, anchored);
            spec.context = context;
        }
        return unanchored.run(new WorkContext(ctx.uid(), ctx.namespace(), ctx.name(), ctx.nodeName(), spec, ctx.statusContext(), ctx.node()));
    }
}
