package io.kdiag.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The members of the context text a fold wrote last, kept beside that text: the next {@code ProcessorFinished} merges
 * into them instead of parsing again what was just written, which grows with every processor. Only the very same
 * String hits; a context from anywhere else (a decoded snapshot, a copy the budget cut) is parsed as before.
 */
final class ParsedContext {
    private String text;
    private Map<String, String> members;
    private int parses;

    /** A modifiable copy of the members of {@code context}. */
    Map<String, String> members(String context) {
        if (context != null && context == text) {
            return new LinkedHashMap<>(members);
        }
        parses++;
        return TopLevelJson.members(context);
    }

    /** The text of {@code merged}, remembered with it; {@code merged} must not change afterwards. */
    String write(Map<String, String> merged) {
        text = TopLevelJson.write(merged);
        members = merged;
        return text;
    }

    /** How many contexts were parsed rather than found here. */
    int parses() {
        return parses;
    }
}
