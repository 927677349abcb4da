package io.kdiag.systemtests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The fenced code blocks of a document, so tests run the commands the docs show exactly as written. */
final class Docs {
    private Docs() {
    }

    /** The fenced blocks of language {@code lang} that follow the heading {@code heading} (up to the next heading of its level or higher). */
    static List<String> blocks(String doc, String heading, String lang) {
        String text;
        try {
            text = Files.readString(Images.REPO.resolve(doc));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int start = text.indexOf("\n" + heading + "\n");
        if (start < 0) {
            throw new IllegalArgumentException(doc + " has no heading '" + heading + "'");
        }
        String level = heading.substring(0, heading.indexOf(' ') + 1);
        int end = text.length();
        for (String h = "#"; h.length() <= level.length() - 1; h += "#") {
            int next = text.indexOf("\n" + h + " ", start + heading.length() + 1);
            if (next >= 0 && next < end) {
                end = next;
            }
        }
        String section = text.substring(start, end);
        List<String> blocks = new ArrayList<>();
        // the fence may carry tags after the language ("```bash container"), as DocCommandsIT reads them
        Matcher fence = Pattern.compile("```" + Pattern.quote(lang) + "( [^\n]*)?\n").matcher(section);
        int i = 0;
        while (fence.find(i)) {
            int close = section.indexOf("\n```", fence.end());
            blocks.add(section.substring(fence.end(), close + 1));
            i = close + 4;
        }
        return blocks;
    }
}
