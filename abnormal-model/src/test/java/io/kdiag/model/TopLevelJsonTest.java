package io.kdiag.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import io.kdiag.api.ApiSerialization;
import org.junit.jupiter.api.Test;

class TopLevelJsonTest {
    @Test
    void shouldKeepTheRawTextOfEveryKindOfValue() {
        String json = "{ \"n\" : -12.5e3 , \"s\":\"a \\\"q\\\" \\u00e9 }\",\"t\":true,\"f\":false,\"z\":null,"
                + "\"o\":{\"x\":[1,{\"y\":\"}\"}]},\"a\":[ ],\"i\":7}";

        Map<String, String> members = TopLevelJson.members(json);

        assertThat(members).containsExactly(Map.entry("n", "-12.5e3"), Map.entry("s", "\"a \\\"q\\\" \\u00e9 }\""),
                Map.entry("t", "true"), Map.entry("f", "false"), Map.entry("z", "null"),
                Map.entry("o", "{\"x\":[1,{\"y\":\"}\"}]}"), Map.entry("a", "[ ]"), Map.entry("i", "7"));
        assertThat(ApiSerialization.jsonObject(TopLevelJson.write(members))).isEqualTo(ApiSerialization.jsonObject(json));
    }

    @Test
    void shouldEscapeNamesWhenWriting() {
        String written = TopLevelJson.write(TopLevelJson.members("{\"we\\\"ird\\n\":1}"));

        assertThat(written).isEqualTo("{\"we\\\"ird\\n\":1}");
        assertThat(ApiSerialization.jsonObject(written)).containsOnlyKeys("we\"ird\n");
    }

    @Test
    void shouldKeepTheFirstPlaceAndTheLastValueOfARepeatedName() {
        assertThat(TopLevelJson.members("{\"a\":1,\"b\":2,\"a\":3}")).containsExactly(Map.entry("a", "3"), Map.entry("b", "2"));
    }

    @Test
    void shouldReadNothingAsTheEmptyObject() {
        assertThat(TopLevelJson.members(null)).isEmpty();
        assertThat(TopLevelJson.members(" ")).isEmpty();
        assertThat(TopLevelJson.write(Map.of())).isEqualTo("{}");
    }

    @Test
    void shouldRefuseWhatIsNotOneObject() {
        assertThatThrownBy(() -> TopLevelJson.members("[1]")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a JSON object");
        assertThatThrownBy(() -> TopLevelJson.members("{\"a\":")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TopLevelJson.members("{\"a\":1} {}")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("text after");
    }
}
