package io.kdiag.stageworkers.builtin;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import tools.jackson.core.type.TypeReference;

/**
 * A minimal client of the Docker Engine API on its unix socket: one HTTP/1.1 GET with {@code Connection: close},
 * answered with a plain, {@code Content-Length} or chunked body. No Docker client library: one request does not
 * justify one, and this one runs under the host root.
 */
final class DockerEngine {
    private static final KubernetesSerialization JSON = new KubernetesSerialization();
    private static final TypeReference<List<Map<String, Object>>> LIST_OF_OBJECTS = new TypeReference<>() {
    };
    private static final TypeReference<Map<String, Object>> OBJECT = new TypeReference<>() {
    };
    private static final int MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

    private final Path socket;
    private final Duration timeout;

    DockerEngine(Path socket, Duration timeout) {
        this.socket = socket;
        this.timeout = timeout;
    }

    /** {@code GET /containers/json}: the running containers, as the Engine API lists them. */
    List<Map<String, Object>> containers() throws IOException {
        String body = get("/containers/json");
        try {
            return JSON.unmarshal(body, LIST_OF_OBJECTS);
        } catch (RuntimeException e) {
            throw new IOException("Docker answered GET /containers/json with something other than a JSON list: " + e.getMessage(), e);
        }
    }

    /** {@code GET /containers/<id>/json}: one container as the Engine API inspects it (its {@code State.Pid} among others). */
    Map<String, Object> inspect(String id) throws IOException {
        String path = "/containers/" + java.net.URLEncoder.encode(id, StandardCharsets.UTF_8) + "/json";
        String body = get(path);
        try {
            return JSON.unmarshal(body, OBJECT);
        } catch (RuntimeException e) {
            throw new IOException("Docker answered GET " + path + " with something other than a JSON object: " + e.getMessage(), e);
        }
    }

    /** The body of a 200 answer to {@code GET path}. */
    String get(String path) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] response;
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
             Selector selector = Selector.open()) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer request = ByteBuffer.wrap(("GET " + path + " HTTP/1.1\r\nHost: docker\r\nAccept: application/json\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            while (request.hasRemaining()) {
                channel.write(request);
            }
            // non-blocking reads under a selector: a daemon that accepts and never answers cannot hang the worker
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_READ);
            response = readToEnd(channel, selector, deadline);
        }
        return body(response, path);
    }

    private byte[] readToEnd(SocketChannel channel, Selector selector, long deadline) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        while (true) {
            long remainingMillis = (deadline - System.nanoTime()) / 1_000_000;
            if (remainingMillis <= 0) {
                throw new IOException("Docker did not answer within " + timeout.toMillis() + " ms on " + socket);
            }
            selector.select(remainingMillis);
            selector.selectedKeys().clear();
            int n = channel.read(buffer);
            if (n < 0) {
                return out.toByteArray();
            }
            out.write(buffer.array(), 0, buffer.position());
            buffer.clear();
            if (out.size() > MAX_RESPONSE_BYTES) {
                throw new IOException("Docker's answer exceeds " + MAX_RESPONSE_BYTES + " bytes");
            }
        }
    }

    private static String body(byte[] response, String path) throws IOException {
        String text = new String(response, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        if (end < 0) {
            throw new IOException("Docker closed the connection before a complete HTTP header for GET " + path);
        }
        String[] lines = text.substring(0, end).split("\r\n");
        String[] status = lines[0].split(" ", 3);
        if (status.length < 2 || !status[0].startsWith("HTTP/")) {
            throw new IOException("not an HTTP answer from Docker: " + lines[0]);
        }
        boolean chunked = false;
        long length = -1;
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                String name = lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT);
                String value = lines[i].substring(colon + 1).strip();
                chunked |= name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked");
                if (name.equals("content-length")) {
                    try {
                        length = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        throw new IOException("bad Content-Length from Docker: " + value);
                    }
                }
            }
        }
        byte[] raw = text.substring(end + 4).getBytes(StandardCharsets.ISO_8859_1);
        byte[] body = chunked ? dechunk(raw) : length >= 0 && length < raw.length ? Arrays.copyOf(raw, (int) length) : raw;
        String decoded = new String(body, StandardCharsets.UTF_8);
        if (!status[1].equals("200")) {
            throw new IOException("Docker answered GET " + path + " with " + lines[0].substring(status[0].length() + 1) + ": " + decoded.strip());
        }
        return decoded;
    }

    private static byte[] dechunk(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int pos = 0;
        while (true) {
            int lineEnd = indexOfCrLf(raw, pos);
            if (lineEnd < 0) {
                throw new IOException("truncated chunked answer from Docker");
            }
            String sizeLine = new String(raw, pos, lineEnd - pos, StandardCharsets.US_ASCII);
            int semicolon = sizeLine.indexOf(';');
            int size;
            try {
                size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).strip(), 16);
            } catch (NumberFormatException e) {
                throw new IOException("bad chunk size from Docker: " + sizeLine);
            }
            pos = lineEnd + 2;
            if (size == 0) {
                return out.toByteArray();
            }
            if (pos + size > raw.length) {
                throw new IOException("truncated chunked answer from Docker");
            }
            out.write(raw, pos, size);
            pos += size + 2;
        }
    }

    private static int indexOfCrLf(byte[] raw, int from) {
        for (int i = from; i + 1 < raw.length; i++) {
            if (raw[i] == '\r' && raw[i + 1] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
