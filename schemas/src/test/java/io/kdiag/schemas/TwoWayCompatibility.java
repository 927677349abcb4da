package io.kdiag.schemas;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaIncompatibilityType;

/**
 * The rule a new version of a record schema must follow against an older one: the newer reads everything the older
 * wrote (Avro's {@link SchemaCompatibility}, no exception), and the older reads everything the newer writes except what
 * its fallbacks handle. Avro's check already lets an enum with a default take new symbols; the one thing added here is
 * a new branch in a top-level union whose reader has an {@code UnknownPayload} branch, which {@code AvroSerde} maps to it.
 *
 * <p>Avro's check finds a union branch readable when any reader branch of a compatible shape can read it, and Avro's
 * resolution reads it so: a changed {@code ProcessorFinished} could be read as a {@code StageStarted}. So each branch
 * of a top-level union must also be readable as the reader's branch of the same name.
 */
final class TwoWayCompatibility {
    /** Where a branch of a top-level field's union sits: {@code /fields/<field>/type/<branch>}. */
    private static final Pattern TOP_LEVEL_BRANCH = Pattern.compile("/fields/\\d+/type/\\d+");

    private TwoWayCompatibility() {
    }

    /** What makes {@code newer} not a two-way compatible successor of {@code older}; empty when it is one. */
    static List<String> problems(Schema older, Schema newer) {
        List<String> problems = new ArrayList<>();
        for (Incompatibility i : incompatibilities(newer, older)) {
            problems.add("the new version cannot read the old one: " + describe(i));
        }
        for (Incompatibility i : incompatibilities(older, newer)) {
            if (!handledByFallback(i)) {
                problems.add("the old version cannot read the new one: " + describe(i));
            }
        }
        sameNamedBranches(older, newer, problems, "the old version cannot read the new one: ");
        sameNamedBranches(newer, older, problems, "the new version cannot read the old one: ");
        return problems;
    }

    /** Each branch of the writer's top-level unions that the reader's union names must be readable as that branch. */
    private static void sameNamedBranches(Schema reader, Schema writer, List<String> problems, String prefix) {
        for (Schema.Field writerField : writer.getFields()) {
            Schema.Field readerField = reader.getField(writerField.name());
            if (readerField == null || writerField.schema().getType() != Schema.Type.UNION
                    || readerField.schema().getType() != Schema.Type.UNION) {
                continue;
            }
            for (Schema branch : writerField.schema().getTypes()) {
                Integer index = readerField.schema().getIndexNamed(branch.getFullName());
                if (index == null) {
                    continue;
                }
                for (Incompatibility i : incompatibilities(readerField.schema().getTypes().get(index), branch)) {
                    problems.add(prefix + branch.getName() + " in " + writerField.name() + ": " + describe(i));
                }
            }
        }
    }

    private static List<Incompatibility> incompatibilities(Schema reader, Schema writer) {
        return SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getResult().getIncompatibilities();
    }

    /** A branch of a new type (no branch of its name in the reader) in a top-level union with an UnknownPayload branch. */
    private static boolean handledByFallback(Incompatibility i) {
        if (i.getType() != SchemaIncompatibilityType.MISSING_UNION_BRANCH || !TOP_LEVEL_BRANCH.matcher(i.getLocation()).matches()) {
            return false;
        }
        Schema readerUnion = i.getReaderFragment();
        return readerUnion.getType() == Schema.Type.UNION
                && readerUnion.getIndexNamed(i.getWriterFragment().getFullName()) == null
                && readerUnion.getTypes().stream().anyMatch(b -> b.getType() == Schema.Type.RECORD
                        && b.getName().equals(UnknownBranches.FALLBACK));
    }

    private static String describe(Incompatibility i) {
        return i.getType() + " at " + i.getLocation() + " (" + i.getMessage() + ")";
    }
}
