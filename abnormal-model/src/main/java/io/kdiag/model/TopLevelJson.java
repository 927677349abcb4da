package io.kdiag.model;

import java.util.LinkedHashMap;
import java.util.Map;

import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.io.JsonStringEncoder;
import tools.jackson.core.json.JsonFactory;

/**
 * The members of a JSON object with each value kept as its raw text. Merging the status context with a processor's
 * updates replaces whole top-level keys, so the fold copies the text of each value instead of parsing it into maps
 * and lists and writing them back: the context grows with every processor and is merged on every
 * {@code ProcessorFinished}, and building the objects was a quarter of the fold's CPU.
 */
final class TopLevelJson {
    private static final JsonFactory FACTORY = new JsonFactory();

    private TopLevelJson() {
    }

    /**
     * Member name → raw JSON text of its value, in document order; a repeated name keeps its first place and its
     * last value. Null or blank text is the empty object.
     *
     * @throws IllegalArgumentException when the text is not one JSON object
     */
    static Map<String, String> members(String json) {
        Map<String, String> members = new LinkedHashMap<>();
        if (json == null || json.isBlank()) {
            return members;
        }
        try (JsonParser parser = FACTORY.createParser(ObjectReadContext.empty(), json)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("not a JSON object: " + abbreviate(json));
            }
            for (JsonToken token = parser.nextToken(); token == JsonToken.PROPERTY_NAME; token = parser.nextToken()) {
                String name = parser.currentName();
                parser.nextToken();
                int start = (int) parser.currentTokenLocation().getCharOffset();
                parser.skipChildren(); // to the end of an object or array; nothing for a scalar
                parser.finishToken(); // reads a string to its closing quote
                members.put(name, json.substring(start, (int) parser.currentLocation().getCharOffset()));
            }
            if (parser.nextToken() != null) {
                throw new IllegalArgumentException("text after the JSON object: " + abbreviate(json));
            }
        } catch (JacksonException e) {
            throw new IllegalArgumentException("not a JSON object: " + e.getOriginalMessage(), e);
        }
        return members;
    }

    /** The object with these members, compact. */
    static String write(Map<String, String> members) {
        StringBuilder out = new StringBuilder(members.values().stream().mapToInt(v -> v.length() + 16).sum() + 2).append('{');
        members.forEach((name, value) -> {
            if (out.length() > 1) {
                out.append(',');
            }
            out.append('"');
            JsonStringEncoder.getInstance().quoteAsString(name, out);
            out.append("\":").append(value);
        });
        return out.append('}').toString();
    }

    private static String abbreviate(String json) {
        return json.length() <= 40 ? json : json.substring(0, 40) + "...";
    }
}
