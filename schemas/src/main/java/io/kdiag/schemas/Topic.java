package io.kdiag.schemas;

import org.apache.kafka.common.serialization.Serde;

/**
 * A topic's name together with the serdes of its key and value, so the two never travel apart.
 *
 * @param name full topic name, prefix included
 * @param keySerde serde of the record key
 * @param valueSerde serde of the record value
 */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde) {
}
