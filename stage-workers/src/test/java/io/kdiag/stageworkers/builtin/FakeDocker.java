package io.kdiag.stageworkers.builtin;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/** A Docker Engine endpoint on a unix socket that answers each request with a canned HTTP response for its path. */
final class FakeDocker implements AutoCloseable {
    final List<String> requests = new CopyOnWriteArrayList<>();
    private final ServerSocketChannel server;
    private final Thread thread;

    /** Serves {@code response} (a whole HTTP response, or {@code null} to never answer) on {@code socket}. */
    FakeDocker(Path socket, String response) throws IOException {
        this(socket, path -> response);
    }

    /** Serves the response {@code byPath} gives for the requested path ({@code null}: never answer) on {@code socket}. */
    FakeDocker(Path socket, Function<String, String> byPath) throws IOException {
        Files.createDirectories(socket.getParent());
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        thread = new Thread(() -> serve(byPath), "fake-docker");
        thread.setDaemon(true);
        thread.start();
    }

    /** A 200 response with a chunked body, split into chunks of {@code chunkSize} bytes. */
    static String chunked(String body, int chunkSize) {
        StringBuilder out = new StringBuilder("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i += chunkSize) {
            int n = Math.min(chunkSize, bytes.length - i);
            out.append(Integer.toHexString(n)).append("\r\n").append(new String(bytes, i, n, StandardCharsets.ISO_8859_1)).append("\r\n");
        }
        return out.append("0\r\n\r\n").toString();
    }

    /** A response with a Content-Length body. */
    static String withLength(int status, String reason, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return "HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length
                + "\r\n\r\n" + new String(bytes, StandardCharsets.ISO_8859_1);
    }

    private void serve(Function<String, String> byPath) {
        while (server.isOpen()) {
            try (SocketChannel client = server.accept()) {
                ByteBuffer buffer = ByteBuffer.allocate(8192);
                StringBuilder request = new StringBuilder();
                while (!request.toString().contains("\r\n\r\n") && client.read(buffer) > 0) {
                    buffer.flip();
                    request.append(StandardCharsets.US_ASCII.decode(buffer));
                    buffer.clear();
                }
                requests.add(request.toString());
                String[] requestLine = request.toString().split(" ", 3);
                String response = byPath.apply(requestLine.length > 1 ? requestLine[1] : "");
                if (response == null) {
                    // hold the connection open without answering until the client gives up
                    client.read(ByteBuffer.allocate(1));
                    continue;
                }
                ByteBuffer out = ByteBuffer.wrap(response.getBytes(StandardCharsets.ISO_8859_1));
                while (out.hasRemaining()) {
                    client.write(out);
                }
            } catch (IOException e) {
                // closed by close() or by the client
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
