package io.kdiag.schemas;

import io.kdiag.schemas.avro.AbnormalRequest;
import org.apache.avro.util.ClassSecurityValidator;

/**
 * Lets Avro instantiate the project's generated records. Avro 1.12 resolves the class of every named type it builds or
 * reads (an enum default filled in by a builder, a nested record a decoder reads) through {@code ClassUtils.forName},
 * which refuses a class that {@link ClassSecurityValidator}'s global predicate does not trust: by default only
 * {@code java.lang}'s boxed types and the packages of the system property {@code org.apache.avro.SERIALIZABLE_PACKAGES},
 * read once when that class loads. Whichever code of a process first builds or reads a record must find
 * {@code io.kdiag.schemas.avro} trusted already, so every entry point (the components' launcher, the {@code kdiag}
 * program, the bench) calls {@link #install()} before anything else, and {@link AvroSerde} does for library users.
 */
public final class AvroTrust {
    /** The one package of generated records; nothing else of this project is ever instantiated by Avro. */
    static final String RECORDS_PACKAGE = AbnormalRequest.class.getPackageName();
    private static boolean installed;

    private AvroTrust() {
    }

    /** Adds the generated records' package to what Avro trusts, keeping whatever it trusted before; idempotent. */
    public static synchronized void install() {
        if (installed) {
            return;
        }
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(ClassSecurityValidator.getGlobal(),
                type -> RECORDS_PACKAGE.equals(type.getPackageName())));
        installed = true;
    }
}
