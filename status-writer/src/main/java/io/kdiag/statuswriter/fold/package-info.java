/** The Kafka Streams fold of diagnosis events into status snapshots: topology, processor, dead letters of its input. */
package io.kdiag.statuswriter.fold;
