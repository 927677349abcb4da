package io.kdiag.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;

import io.kdiag.schemas.avro.RecoveryControl;
import org.junit.jupiter.api.Test;

class RecoveriesCommandTest {
    @Test
    void shouldNameTheKafkaUserOfASaslLoginElseTheOsUser() {
        assertThat(RecoveriesCommand.changedBy(Map.of("sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"s3cr=t\";")))
                .isEqualTo("User:alice");
        assertThat(RecoveriesCommand.changedBy(Map.of("bootstrap.servers", "kafka:9092"))).isEqualTo(System.getProperty("user.name"));
    }

    @Test
    void shouldShowTheStateWhoChangedItWhenAndWhy() {
        assertThat(RecoveriesCommand.table(new RecoveryControl(true, "User:alice", Instant.parse("2026-12-03T07:00:00.123Z"), "node drain")))
                .isEqualTo("""
                        STATE    CHANGED-BY   CHANGED-AT             REASON
                        Paused   User:alice   2026-12-03T07:00:00Z   node drain
                        """);
        assertThat(RecoveriesCommand.table(null)).isEqualTo("""
                STATE     CHANGED-BY   CHANGED-AT   REASON
                Running   <none>       <none>       <none>
                """);
    }
}
