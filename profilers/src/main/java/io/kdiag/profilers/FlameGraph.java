package io.kdiag.profilers;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Draws stacks as a flame graph: one HTML page with an inline SVG (the root at the bottom, each frame as wide as its
 * share of the total) and a small inline script: hovering shows a frame's name, value and share, clicking zooms into
 * it, the search box highlights the frames whose name contains the text. Frames narrower than
 * {@link #MIN_FRACTION} of the total are left out with their callees, and at most {@link #MAX_FRAMES} are drawn, so
 * the page stays small whatever the profile's size.
 */
final class FlameGraph {
    /** Frames with a smaller share of the total are not drawn; their width shows as their caller's own time. */
    static final double MIN_FRACTION = 0.001;
    /** At most this many frames are drawn (about 2 MB of page); deeper levels beyond it are cut. */
    static final int MAX_FRAMES = 10_000;
    /** Left edge of the graph in SVG units. */
    static final double X0 = 10;
    /** Width of the graph (the root frame) in SVG units. */
    static final double WIDTH = 1180;

    private static final int PAD = 10;
    private static final int ROW = 17;
    private static final int FRAME_HEIGHT = 16;
    private static final String SCRIPT = Html.resource("flamegraph.js");

    private FlameGraph() {
    }

    /**
     * What the page says about the profile.
     *
     * @param title the page title
     * @param kind what was profiled and how, e.g. {@code Java CPU (JFR execution samples)}
     * @param unit the unit of the values, e.g. {@code samples}
     */
    record Header(String title, String kind, String unit) {
    }

    /** The page for {@code stacks}, linking the raw profile {@code rawName} at {@code rawHref}. */
    static String render(Header header, String rawHref, String rawName, StackCounts stacks) {
        long total = stacks.total();
        StringBuilder body = new StringBuilder();
        body.append("<p class=\"meta\">").append(Html.escape(header.kind())).append(" &middot; total ")
                .append(String.format(Locale.ROOT, "%,d", total)).append(' ').append(Html.escape(header.unit()))
                .append(" &middot; raw profile: <a href=\"").append(Html.escape(rawHref)).append("\">")
                .append(Html.escape(rawName)).append("</a></p>\n");
        if (total == 0) {
            body.append("<p class=\"note\">No samples were recorded: the program did not run any sampled code during the profile.</p>\n");
            return Html.page(header.title(), body.toString());
        }
        Layout layout = layout(stacks, total);
        if (layout.omitted > 0) {
            body.append("<p class=\"note\">").append(layout.omitted).append(" call paths narrower than ")
                    .append(MIN_FRACTION * 100).append("% of the total are not drawn.</p>\n");
        }
        if (layout.cut) {
            body.append("<p class=\"note\">Only the first ").append(layout.maxDepth + 1).append(" stack levels are drawn (at most ")
                    .append(MAX_FRAMES).append(" frames); the raw profile has them all.</p>\n");
        }
        body.append("<p><input id=\"search\" type=\"search\" placeholder=\"Search frames\" size=\"40\"> ")
                .append("<button id=\"reset\" type=\"button\">Reset zoom</button> <span id=\"matched\"></span></p>\n");
        appendSvg(body, layout, total, header.unit());
        body.append("<p id=\"details\">&nbsp;</p>\n<script>\n").append(SCRIPT).append("</script>\n");
        return Html.page(header.title(), body.toString());
    }

    private static void appendSvg(StringBuilder out, Layout layout, long total, String unit) {
        int height = 2 * PAD + (layout.maxDepth + 1) * ROW;
        double viewWidth = X0 + WIDTH + X0;
        out.append("<svg id=\"flamegraph\" viewBox=\"0 0 ").append(num(viewWidth)).append(' ').append(height)
                .append("\" width=\"").append(num(viewWidth)).append("\" height=\"").append(height)
                .append("\" data-x0=\"").append(num(X0)).append("\" data-width=\"").append(num(WIDTH))
                .append("\" data-total=\"").append(total).append("\" data-unit=\"").append(Html.escape(unit)).append("\">\n");
        for (Placed frame : layout.frames) {
            double x = X0 + (double) frame.start / total * WIDTH;
            double w = (double) frame.node.value / total * WIDTH;
            int y = PAD + (layout.maxDepth - frame.depth) * ROW;
            String name = Html.escape(frame.node.name);
            out.append("<g class=\"f\" data-n=\"").append(name).append("\" data-s=\"").append(frame.start)
                    .append("\" data-v=\"").append(frame.node.value).append("\" data-d=\"").append(frame.depth)
                    .append("\"><rect x=\"").append(num(x)).append("\" y=\"").append(y).append("\" width=\"").append(num(w))
                    .append("\" height=\"").append(FRAME_HEIGHT).append("\" fill=\"").append(color(frame.node.name))
                    .append("\"/><text x=\"").append(num(x + 3)).append("\" y=\"").append(y + 12).append("\">")
                    .append(Html.escape(label(frame.node.name, w))).append("</text></g>\n");
        }
        out.append("</svg>\n");
    }

    private static Layout layout(StackCounts stacks, long total) {
        Node root = new Node("all");
        for (Map.Entry<List<String>, Long> stack : stacks.stacks().entrySet()) {
            long value = stack.getValue();
            root.value += value;
            Node node = root;
            for (String frame : stack.getKey()) {
                node = node.children.computeIfAbsent(frame, Node::new);
                node.value += value;
            }
        }
        // breadth first, so the frame cap cuts the deepest levels rather than one side of the graph
        Layout layout = new Layout();
        List<Placed> level = List.of(new Placed(root, 0, 0));
        while (!level.isEmpty()) {
            if (layout.frames.size() + level.size() > MAX_FRAMES) {
                layout.cut = true;
                break;
            }
            List<Placed> next = new ArrayList<>();
            for (Placed placed : level) {
                layout.frames.add(placed);
                layout.maxDepth = placed.depth;
                long start = placed.start;
                for (Node child : placed.node.children.values()) {
                    if (child.value < total * MIN_FRACTION) {
                        layout.omitted++;
                    } else {
                        next.add(new Placed(child, placed.depth + 1, start));
                    }
                    start += child.value;
                }
            }
            level = next;
        }
        return layout;
    }

    /** The name cut to fit {@code width}: about 7 units a character and 3 of padding each side, as the script does. */
    static String label(String name, double width) {
        int max = (int) Math.floor((width - 6) / 7);
        if (max < 3) {
            return "";
        }
        return name.length() <= max ? name : name.substring(0, max - 2) + "..";
    }

    /** A warm colour that depends only on the name, so a function has the same colour in every profile. */
    private static String color(String name) {
        int h = name.hashCode() * 0x9E3779B1;
        int r = 205 + (h >>> 8 & 0xff) * 50 / 255;
        int g = (h >>> 16 & 0xff) * 230 / 255;
        int b = (h >>> 24) * 55 / 255;
        return "rgb(" + r + "," + g + "," + b + ")";
    }

    /** Two decimals, without {@link String#format}, which dominates the rendering time of large graphs. */
    private static String num(double value) {
        long hundredths = Math.round(value * 100);
        long fraction = hundredths % 100;
        return hundredths / 100 + (fraction < 10 ? ".0" : ".") + fraction;
    }

    private static final class Node {
        final String name;
        final Map<String, Node> children = new TreeMap<>();
        long value;

        Node(String name) {
            this.name = name;
        }
    }

    private record Placed(Node node, int depth, long start) {
    }

    private static final class Layout {
        final List<Placed> frames = new ArrayList<>();
        int maxDepth;
        int omitted;
        boolean cut;
    }
}
