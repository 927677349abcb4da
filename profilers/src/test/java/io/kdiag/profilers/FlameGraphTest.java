package io.kdiag.profilers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

class FlameGraphTest {
    private static final Pattern FRAME = Pattern.compile(
            "<g class=\"f\" data-n=\"([^\"]*)\" data-s=\"(\\d+)\" data-v=\"(\\d+)\" data-d=\"(\\d+)\">"
                    + "<rect x=\"([\\d.]+)\" y=\"(\\d+)\" width=\"([\\d.]+)\"");
    private static final FlameGraph.Header HEADER = new FlameGraph.Header("checkout: Java CPU profile of pid 42",
            "Java CPU, Flight Recorder execution samples over 30 s", "samples");

    private record Frame(String name, long start, long value, int depth, double x, int y, double width) {
    }

    private static Map<String, Frame> frames(String page) {
        Map<String, Frame> frames = new HashMap<>();
        Matcher m = FRAME.matcher(page);
        while (m.find()) {
            frames.put(m.group(1), new Frame(m.group(1), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
                    Integer.parseInt(m.group(4)), Double.parseDouble(m.group(5)), Integer.parseInt(m.group(6)),
                    Double.parseDouble(m.group(7))));
        }
        return frames;
    }

    private static String render(StackCounts stacks) {
        return FlameGraph.render(HEADER, "../raw-id/recording.jfr", "recording.jfr", stacks);
    }

    @Test
    void shouldDrawEachFrameAsWideAsItsShareWithCalleesAboveCallers() {
        StackCounts stacks = new StackCounts();
        stacks.add(List.of("main", "handle"), 30);
        stacks.add(List.of("main", "idle"), 10);

        Map<String, Frame> frames = frames(render(stacks));

        assertThat(frames).containsOnlyKeys("all", "main", "handle", "idle");
        assertThat(frames.get("all").width()).isCloseTo(FlameGraph.WIDTH, within(0.01));
        assertThat(frames.get("main").width()).isCloseTo(FlameGraph.WIDTH, within(0.01));
        assertThat(frames.get("handle").width()).isCloseTo(FlameGraph.WIDTH * 30 / 40, within(0.01));
        assertThat(frames.get("idle").width()).isCloseTo(FlameGraph.WIDTH * 10 / 40, within(0.01));
        assertThat(frames.get("handle").x()).isCloseTo(FlameGraph.X0, within(0.01));
        assertThat(frames.get("idle").x()).isCloseTo(FlameGraph.X0 + FlameGraph.WIDTH * 30 / 40, within(0.01));
        assertThat(frames.get("handle").y()).isLessThan(frames.get("main").y());
        assertThat(frames.get("main").y()).isLessThan(frames.get("all").y());
        // what the script zooms with
        assertThat(frames.get("idle")).extracting(Frame::start, Frame::value, Frame::depth).containsExactly(30L, 10L, 2);
    }

    @Test
    void shouldBeOneSelfContainedPageWithHoverZoomAndSearch() {
        StackCounts stacks = new StackCounts();
        stacks.add(List.of("main", "handle"), 3);

        String page = render(stacks);

        assertThat(page).startsWith("<!DOCTYPE html>")
                .contains("<title>checkout: Java CPU profile of pid 42</title>")
                .contains("Java CPU, Flight Recorder execution samples over 30 s &middot; total 3 samples")
                .contains("<a href=\"../raw-id/recording.jfr\">recording.jfr</a>")
                .contains("<svg id=\"flamegraph\"", "data-total=\"3\"", "data-unit=\"samples\"")
                .contains("<input id=\"search\"", "<button id=\"reset\"", "<p id=\"details\">")
                .contains("<script>", "function zoom(z)", "addEventListener('click'", "addEventListener('mouseover'",
                        "search.addEventListener('input'");
        // nothing is fetched from elsewhere
        assertThat(page).doesNotContain("http:", "https:", "src=", "<link", "@import", "url(", "@font-face");
    }

    @Test
    void shouldLeaveOutFramesNarrowerThanATenthOfAPercentSoHugeProfilesStaySmall() {
        StackCounts stacks = new StackCounts();
        stacks.add(List.of("main", "hot"), 100_000);
        for (int i = 0; i < 50_000; i++) {
            stacks.add(List.of("main", "cold" + i, "deeper"), 1);
        }

        String page = render(stacks);

        assertThat(frames(page)).containsOnlyKeys("all", "main", "hot");
        assertThat(page).contains("50000 call paths narrower than 0.1% of the total are not drawn");
        assertThat(page.length()).isLessThan(20_000);
    }

    @Test
    void shouldDrawAtMostMaxFramesCuttingTheDeepestLevels() {
        StackCounts stacks = new StackCounts();
        for (int i = 0; i < 1000; i++) {
            List<String> deep = new ArrayList<>();
            for (int depth = 0; depth < 15; depth++) {
                deep.add("f" + i + "_" + depth);
            }
            stacks.add(deep, 1);
        }

        String page = render(stacks);

        Matcher frame = Pattern.compile("<g class=\"f\"").matcher(page);
        int drawn = 0;
        while (frame.find()) {
            drawn++;
        }
        // the root, then 9 full levels of 1000: the 10th would pass the cap
        assertThat(drawn).isEqualTo(1 + 9 * 1000).isLessThanOrEqualTo(FlameGraph.MAX_FRAMES);
        assertThat(page).contains("Only the first 10 stack levels are drawn");
    }

    @Test
    void shouldEscapeFrameNames() {
        StackCounts stacks = new StackCounts();
        stacks.add(List.of("java.util.HashMap.<init>", "Foo\"&'"), 1);

        String page = render(stacks);

        assertThat(page).contains("data-n=\"java.util.HashMap.&lt;init&gt;\"", "data-n=\"Foo&quot;&amp;&#39;\"")
                .doesNotContain("<init>");
    }

    @Test
    void shouldFitLabelsToTheirFrame() {
        assertThat(FlameGraph.label("java.lang.Thread.run", 1000)).isEqualTo("java.lang.Thread.run");
        assertThat(FlameGraph.label("java.lang.Thread.run", 83)).isEqualTo("java.lang..");
        assertThat(FlameGraph.label("java.lang.Thread.run", 20)).isEmpty();
    }

    @Test
    void shouldSaySoWhenThereAreNoSamples() {
        String page = render(new StackCounts());

        assertThat(page).contains("total 0 samples", "No samples were recorded").doesNotContain("<svg");
    }
}
