package io.kdiag.common.health;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.sun.net.httpserver.HttpExchange;
import io.kdiag.common.http.HttpResponses;

/**
 * What a component answers on {@code GET /healthz} (liveness: restart me when it fails) and {@code GET /readyz}
 * (readiness: send me work when it holds). Liveness fails only on what a restart can mend: a main loop that made no
 * progress while it had work, or that died. Readiness fails while liveness does, and while the component is not yet
 * caught up enough to serve. The answer is {@code 200 {"status":"ok"}} or {@code 503 {"reason","message"}} naming
 * every failing check.
 */
public final class Health {
    /** Liveness probe path. */
    public static final String LIVENESS_PATH = "/healthz";
    /** Readiness probe path. */
    public static final String READINESS_PATH = "/readyz";

    /** One condition: empty while it holds, else what is wrong, in a sentence. */
    @FunctionalInterface
    public interface Check {
        /** What is wrong, or empty. */
        Optional<String> problem();
    }

    private final List<Check> liveness;
    private final List<Check> readiness;

    /**
     * @param liveness what must hold for the component to be alive
     * @param readiness what must hold besides for it to serve
     */
    public Health(List<Check> liveness, List<Check> readiness) {
        this.liveness = List.copyOf(liveness);
        this.readiness = List.copyOf(readiness);
    }

    /** What makes the component not alive; empty when it is. */
    public List<String> livenessProblems() {
        return problems(liveness);
    }

    /** What keeps the component from serving, liveness problems included; empty when ready. */
    public List<String> readinessProblems() {
        List<String> problems = new ArrayList<>(livenessProblems());
        problems.addAll(problems(readiness));
        return problems;
    }

    private static List<String> problems(List<Check> checks) {
        List<String> problems = new ArrayList<>();
        for (Check check : checks) {
            check.problem().ifPresent(problems::add);
        }
        return problems;
    }

    /** Whether {@code path} is one of the two probe paths. */
    public static boolean isProbe(String path) {
        return LIVENESS_PATH.equals(path) || READINESS_PATH.equals(path);
    }

    /** Answers a probe of {@code path} ({@link #LIVENESS_PATH} or {@link #READINESS_PATH}). */
    public void answer(HttpExchange exchange, String path) throws IOException {
        boolean readinessProbe = READINESS_PATH.equals(path);
        List<String> problems = readinessProbe ? readinessProblems() : livenessProblems();
        if (problems.isEmpty()) {
            HttpResponses.send(exchange, 200, "application/json", "{\"status\":\"ok\"}");
            return;
        }
        HttpResponses.send(exchange, 503, "application/json", "{\"reason\":\"" + (readinessProbe ? "NotReady" : "NotLive")
                + "\",\"message\":\"" + jsonEscaped(String.join("; ", problems)) + "\"}");
    }

    /** The text as the inside of a JSON string. */
    private static String jsonEscaped(String text) {
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }
}
