package io.kdiag.schemas;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.SchemaStore;

/**
 * Every released version of every record schema, shipped in this jar under {@code io/kdiag/schemas/released/}.
 *
 * <p>Readers resolve a record's fingerprint against this store, so a record written by any released version stays
 * readable for as long as the topic keeps it: history and replay depend on that. A release adds the new version's file
 * and a line to {@code index}; {@code ReleasedSchemasTest} refuses a build whose current schemas are not released.
 */
public final class ReleasedSchemas {
    private static final String ROOT = "/io/kdiag/schemas/released/";
    private static final ReleasedSchemas INSTANCE = load();

    private final Map<String, List<Schema>> byRecord;
    private final SchemaStore.Cache store = new SchemaStore.Cache();

    private ReleasedSchemas(Map<String, List<Schema>> byRecord) {
        this.byRecord = byRecord;
        byRecord.values().forEach(versions -> versions.forEach(store::addSchema));
    }

    /** The store of every released version, shared by all readers. */
    public static ReleasedSchemas get() {
        return INSTANCE;
    }

    /** A store that resolves fingerprints of every released schema. */
    public SchemaStore store() {
        return store;
    }

    /** Every released version of every record. */
    public List<Schema> all() {
        return byRecord.values().stream().flatMap(List::stream).toList();
    }

    /** Released versions of one record (by simple name), oldest first; empty if none was released. */
    public List<Schema> versions(String recordName) {
        return byRecord.getOrDefault(recordName, List.of());
    }

    /** Whether exactly this schema (by parsing fingerprint) was released. */
    public boolean isReleased(Schema schema) {
        return store.findByFingerprint(SchemaNormalization.parsingFingerprint64(schema)) != null;
    }

    private static ReleasedSchemas load() {
        Map<String, List<Schema>> byRecord = new TreeMap<>();
        for (String entry : readLines(ROOT + "index")) {
            String record = entry.substring(0, entry.indexOf('/'));
            try (InputStream in = resource(ROOT + entry)) {
                byRecord.computeIfAbsent(record, r -> new ArrayList<>()).add(new Schema.Parser().parse(in));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read released schema " + entry, e);
            }
        }
        return new ReleasedSchemas(byRecord);
    }

    private static List<String> readLines(String path) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(resource(path), StandardCharsets.UTF_8))) {
            return reader.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
    }

    private static InputStream resource(String path) {
        InputStream in = ReleasedSchemas.class.getResourceAsStream(path);
        if (in == null) {
            throw new IllegalStateException("missing resource " + path + " in the schemas jar");
        }
        return in;
    }
}
