package io.kdiag.client;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Accepted;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.schemas.avro.StageStarted;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Plays the pipeline on the topics, without its apps (the client must not depend on them): every request on the
 * ingest topic gets a short run of events, with seq 2 recorded twice, as a restarted agent would, and a final
 * Succeeded snapshot on the status topic.
 */
final class PipelineStandIn implements AutoCloseable {
    private final Topics topics;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, DiagnosisEvent> events;
    private final KafkaProducer<String, AbnormalStatus> statuses;
    private final AvroSerde<AbnormalRequest> requests = AvroSerde.of(AbnormalRequest.class);
    private final Thread thread;
    /** Keys of the ingest records, in arrival order. */
    final List<String> ingestKeys = new CopyOnWriteArrayList<>();

    PipelineStandIn(Map<String, Object> kafka, Topics topics) {
        this.topics = topics;
        this.consumer = new KafkaConsumer<>(new HashMap<>(kafka), new StringDeserializer(), new ByteArrayDeserializer());
        this.events = new KafkaProducer<>(new HashMap<>(kafka), new StringSerializer(), topics.diagnosisEvents().valueSerde().serializer());
        this.statuses = new KafkaProducer<>(new HashMap<>(kafka), new StringSerializer(), topics.abnormalStatus().valueSerde().serializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topics.abnormalRequests().name()).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);
        thread = new Thread(this::run, "pipeline-stand-in");
        thread.start();
    }

    private void run() {
        try {
            while (!Thread.currentThread().isInterrupted()) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    ingestKeys.add(record.key());
                    handle(requests.decode(record.value()));
                }
            }
        } catch (WakeupException e) {
            // closed
        } finally {
            consumer.close();
        }
    }

    private void handle(AbnormalRequest request) {
        Instant t = Instant.now();
        NamespacedName collector = new NamespacedName("kube-diagnoser", "process-collector");
        List<Object> payloads = List.of(
                new Accepted(request.getNamespace(), request.getName(), request.getOrigin(), request.getSpec(), request.getLabels()),
                new StageStarted(Stage.InformationCollection),
                ProcessorFinished.newBuilder().setStage(Stage.InformationCollection).setProcessor(collector)
                        .setSucceeded(true).setContextUpdates("{\"processInformation\":[]}").setDurationMillis(12).build(),
                new StageFinished(Stage.InformationCollection, StageOutcome.Succeeded, null, null, null),
                new StageStarted(Stage.Diagnosis),
                new StageFinished(Stage.Diagnosis, StageOutcome.Skipped, null, null, "skipDiagnosis is set"),
                new StageStarted(Stage.Recovery),
                new StageFinished(Stage.Recovery, StageOutcome.Skipped, null, null, "skipRecovery is set"));
        List<DiagnosisEvent> run = new ArrayList<>();
        for (int seq = 0; seq < payloads.size(); seq++) {
            run.add(new DiagnosisEvent(request.getUid(), (long) seq, request.getNodeName(), t.plusMillis(seq), payloads.get(seq)));
        }
        run.add(3, run.get(2));
        for (DiagnosisEvent event : run) {
            events.send(new ProducerRecord<>(topics.diagnosisEvents().name(), request.getNodeName(), event));
        }
        events.flush();
        statuses.send(new ProducerRecord<>(topics.abnormalStatus().name(), request.getUid(), AbnormalStatus.newBuilder()
                .setUid(request.getUid()).setNamespace(request.getNamespace()).setName(request.getName())
                .setNodeName(request.getNodeName()).setOrigin(request.getOrigin()).setSpec(request.getSpec())
                .setLastSeq(payloads.size() - 1).setUpdatedAt(t).setStartTime(t).setPhase(Phase.Succeeded)
                .setContext("{\"processInformation\":[]}").build()));
        statuses.flush();
    }

    @Override
    public void close() throws InterruptedException {
        consumer.wakeup();
        thread.join(10_000);
        events.close();
        statuses.close();
    }
}
