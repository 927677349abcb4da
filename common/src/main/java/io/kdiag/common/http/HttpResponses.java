package io.kdiag.common.http;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

import com.sun.net.httpserver.HttpExchange;

/** Answers of the components' JDK HTTP servers: the whole body at once, with its length, then the exchange closed. */
public final class HttpResponses {
    private HttpResponses() {
    }

    /**
     * Sends {@code body} in UTF-8 as {@code contentType}; a {@code text/} type without a charset gets
     * {@code charset=utf-8} (JSON is UTF-8 by definition and takes none).
     */
    public static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        boolean addCharset = contentType.startsWith("text/") && !contentType.contains("charset=");
        send(exchange, status, addCharset ? contentType + "; charset=utf-8" : contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    /** Sends {@code body} as it is. */
    public static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        // -1: no body at all; 0 would mean a chunked body of unknown length
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
