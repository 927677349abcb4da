package io.kdiag.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.ZoneOffset;

import io.kdiag.sourcebridge.rules.RuleBook;
import io.kdiag.testkit.FreshJvm;
import org.junit.jupiter.api.Test;

/**
 * The bench's own Avro use in a fresh JVM: section 4 (rule matching) compiles the bridge's rules, which validates a
 * request built with Avro's builders before any serde exists — {@code bench/run --quick --sections=4} died there with
 * {@code SecurityException: Forbidden io.kdiag.schemas.avro.Origin} until {@link BenchMain} installed the trust. The
 * other sections first touch Avro through a serde, which installs the trust itself, or through the processes they
 * start (the agent's and {@code kdiag}'s entry points, checked in all-in-one's {@code EntryPointAvroTrustTest}).
 */
class BenchAvroTrustTest {
    @Test
    void shouldCompileSectionFoursRulesInAFreshJvmOnceTheHarnessStarted() throws Exception {
        // an unknown section stops the harness after its arguments, before it starts a broker
        FreshJvm.Child child = FreshJvm.run(BenchMain.class, CompileRules.class, "--quick", "--sections=0");

        assertThat(child.exitCode()).as(child.output()).isEqualTo(2);
        assertThat(child.output()).contains("sections are [1, 2, 3, 4, 5, 6, 7, 8, 9]");
        assertThat(child.avroTrusted()).as(child.output()).isTrue();
    }

    /**
     * Section 4's first Avro use, the stack of the report: {@code RuleBook.update} → {@code SourceRule.compile} →
     * {@code RequestValidator.validate}, on a rule book of its own (the bench's also builds serdes, which would hide it).
     */
    public static final class CompileRules implements Runnable {
        @Override
        public void run() {
            RuleBook book = new RuleBook(null, ZoneOffset.UTC);
            book.update(BenchRules.rule("rule-000", BenchRules.reason(0), "probe failed"));
            if (book.size() != 1) {
                throw new IllegalStateException("the rule did not compile");
            }
        }
    }
}
