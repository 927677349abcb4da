package io.kdiag.cli;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.model.StatusProjection;
import io.kdiag.schemas.avro.AbnormalStatus;

/** Renders statuses the way kubectl does: YAML of the whole object, or a table. */
public final class StatusPrinter {
    private StatusPrinter() {
    }

    /** The Abnormal with its status, as {@code kubectl get abnormal -o yaml} would print it. */
    public static String yaml(AbnormalStatus snapshot) {
        return ApiSerialization.yaml(StatusProjection.abnormal(snapshot));
    }

    /**
     * The same YAML with long context lists cut to their first {@code keep} items and a line saying how many were left
     * out, so a terminal shows the shape without hundreds of process entries.
     */
    public static String condensedYaml(AbnormalStatus snapshot, int keep) {
        Abnormal abnormal = StatusProjection.abnormal(snapshot);
        if (abnormal.getStatus().context != null) {
            Map<String, Object> context = new LinkedHashMap<>();
            abnormal.getStatus().context.forEach((key, value) -> {
                if (value instanceof List<?> list && list.size() > keep) {
                    List<Object> cut = new ArrayList<>(list.subList(0, keep));
                    cut.add("... " + (list.size() - keep) + " more (kdiag get abnormal " + snapshot.getName() + " -o yaml shows all)");
                    context.put(key, cut);
                } else {
                    context.put(key, value);
                }
            });
            abnormal.getStatus().context = context;
        }
        return ApiSerialization.yaml(abnormal);
    }

    /** A table of abnormals: NAMESPACE NAME NODE PHASE AGE, plus REASON with {@code wide}. */
    static String table(Collection<AbnormalStatus> statuses, boolean wide, Instant now) {
        List<String[]> rows = new ArrayList<>();
        rows.add(wide ? new String[] {"NAMESPACE", "NAME", "NODE", "PHASE", "AGE", "DIAGNOSER", "RECOVERER", "REASON"}
                : new String[] {"NAMESPACE", "NAME", "NODE", "PHASE", "AGE"});
        for (AbnormalStatus s : statuses) {
            String age = s.getStartTime() == null ? "<unknown>" : age(Duration.between(s.getStartTime(), now));
            String phase = s.getPhase().name();
            if (wide) {
                rows.add(new String[] {s.getNamespace(), s.getName(), s.getNodeName(), phase, age,
                        s.getDiagnoser() == null ? "<none>" : s.getDiagnoser().getName(),
                        s.getRecoverer() == null ? "<none>" : s.getRecoverer().getName(),
                        s.getReason() == null ? "" : s.getReason()});
            } else {
                rows.add(new String[] {s.getNamespace(), s.getName(), s.getNodeName(), phase, age});
            }
        }
        return columns(rows);
    }

    /** Left-aligned columns separated by three spaces, like kubectl. */
    public static String columns(List<String[]> rows) {
        int[] width = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == row.length - 1 ? row[i] : String.format("%-" + (width[i] + 3) + "s", row[i]));
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }

    /** kubectl's short ages: 45s, 12m, 3h, 2d. */
    static String age(Duration d) {
        long s = Math.max(0, d.getSeconds());
        if (s < 120) {
            return s + "s";
        }
        if (s < 7200) {
            return s / 60 + "m";
        }
        if (s < 172_800) {
            return s / 3600 + "h";
        }
        return s / 86_400 + "d";
    }
}
