package io.kdiag.reliability;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Seeded generator of malformed input: every run of a test produces the same inputs, so a failure can be replayed.
 * Each method names the shape it made, for the per-shape counts.
 */
final class Garbage {
    private final Random random;

    Garbage(long seed) {
        random = new Random(seed);
    }

    /** A bytes input and the shape it has. */
    record Input(String shape, byte[] bytes) {
        String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    int nextInt(int bound) {
        return random.nextInt(bound);
    }

    <T> T pick(List<T> values) {
        return values.get(random.nextInt(values.size()));
    }

    /** Random bytes of up to {@code max} length. */
    byte[] bytes(int max) {
        byte[] b = new byte[random.nextInt(max + 1)];
        random.nextBytes(b);
        return b;
    }

    /** A mutation of a valid binary input: truncation, bit flips, a foreign fingerprint, a wrong header, appended junk, noise. */
    Input binary(byte[] valid) {
        byte[] b = valid.clone();
        switch (random.nextInt(6)) {
            case 0 -> {
                return new Input("truncated", Arrays.copyOf(b, random.nextInt(b.length)));
            }
            case 1 -> {
                for (int i = 0, n = 1 + random.nextInt(8); i < n; i++) {
                    int at = random.nextInt(b.length);
                    b[at] ^= (byte) (1 << random.nextInt(8));
                }
                return new Input("bit-flips", b);
            }
            case 2 -> {
                // bytes 2..9 are the writer schema's fingerprint: one no release has
                for (int i = 2; i < 10; i++) {
                    b[i] = (byte) random.nextInt(256);
                }
                return new Input("unknown-fingerprint", b);
            }
            case 3 -> {
                b[random.nextInt(2)] = (byte) random.nextInt(256);
                return new Input("bad-header", b);
            }
            case 4 -> {
                byte[] junk = bytes(64);
                byte[] out = Arrays.copyOf(b, b.length + junk.length + 1);
                System.arraycopy(junk, 0, out, b.length + 1, junk.length);
                out[b.length] = (byte) 0xff;
                return new Input("trailing-junk", out);
            }
            default -> {
                return new Input("noise", bytes(200));
            }
        }
    }

    /** A mutation of valid JSON text: cut, a character replaced, a field of the wrong type, not JSON at all, bad UTF-8. */
    Input json(String valid, List<String[]> wrongTypes) {
        switch (random.nextInt(6)) {
            case 0 -> {
                return new Input("truncated-json", valid.substring(0, random.nextInt(valid.length())).getBytes(StandardCharsets.UTF_8));
            }
            case 1 -> {
                char[] c = valid.toCharArray();
                for (int i = 0, n = 1 + random.nextInt(4); i < n; i++) {
                    c[random.nextInt(c.length)] = pick(List.of('{', '}', '"', ',', ':', '[', 'x', '\\', '0', ' '));
                }
                return new Input("corrupted-json", new String(c).getBytes(StandardCharsets.UTF_8));
            }
            case 2, 3 -> {
                String[] swap = pick(wrongTypes);
                return new Input("wrong-type", valid.replace(swap[0], swap[1]).getBytes(StandardCharsets.UTF_8));
            }
            case 4 -> {
                return new Input("not-json", pick(List.of("", "null", "[]", "42", "\"text\"", "{", "<xml/>", "{}", "[{}]", "true",
                        "{\"a\":" .repeat(200))).getBytes(StandardCharsets.UTF_8));
            }
            default -> {
                byte[] b = valid.getBytes(StandardCharsets.UTF_8);
                b[random.nextInt(b.length)] = (byte) (0x80 | random.nextInt(0x40));
                return new Input("invalid-utf8", b);
            }
        }
    }
}
