package io.kdiag.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

class AgentHostTest {
    @Test
    void shouldSpreadNodesOverHostsInSharesThatDifferByOneAtMost() {
        List<String> nodes = IntStream.range(1, 500).mapToObj(Pipeline::node).toList();

        List<List<String>> shares = AgentHost.shares(nodes, 4);

        assertThat(shares).extracting(List::size).containsExactly(125, 125, 125, 124);
        assertThat(shares.stream().flatMap(List::stream).toList()).isEqualTo(nodes);
    }

    @Test
    void shouldLeaveHostsWithoutNodesEmptyWhenThereAreFewerNodesThanHosts() {
        assertThat(AgentHost.shares(List.of("node-1", "node-2"), 3)).containsExactly(List.of("node-1"), List.of("node-2"), List.of());
    }
}
