package io.kdiag.stageworkers.builtin;

import java.util.List;
import java.util.Map;

import io.kdiag.stageworkers.spi.WorkContext;

/** Reads typed inputs out of the JSON-shaped context, failing with a message that names the key. */
final class Inputs {
    private Inputs() {
    }

    /** Thrown when an input is missing ({@code MissingInput}) or has the wrong shape ({@code InvalidInput}). */
    static final class InputException extends Exception {
        private static final long serialVersionUID = 1L;
        private final String reason;

        InputException(String reason, String message) {
            super(message);
            this.reason = reason;
        }

        String reason() {
            return reason;
        }
    }

    static Object required(WorkContext ctx, String key) throws InputException {
        Object value = ctx.lookup(key);
        if (value == null) {
            throw new InputException("MissingInput", "missing input " + key + " in spec.context or status.context");
        }
        return value;
    }

    static Map<?, ?> map(Object value, String what) throws InputException {
        if (value instanceof Map<?, ?> m) {
            return m;
        }
        throw new InputException("InvalidInput", what + " must be an object");
    }

    static List<?> list(Object value, String what) throws InputException {
        if (value instanceof List<?> l) {
            return l;
        }
        throw new InputException("InvalidInput", what + " must be a list");
    }

    /**
     * Whether a pod of {@code podInformation} is bound to {@code node}. Processors on pods look only at this node's: a
     * pod of another node given in {@code spec.context} is never acted on here.
     */
    static boolean onNode(Map<?, ?> pod, String node) {
        return pod.get("spec") instanceof Map<?, ?> spec && node.equals(spec.get("nodeName"));
    }

    static long integer(Object value, String what) throws InputException {
        if (value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
            return n.longValue();
        }
        if (value instanceof String s && s.strip().matches("-?\\d+")) {
            return Long.parseLong(s.strip());
        }
        throw new InputException("InvalidInput", what + " must be an integer, not " + value);
    }
}
