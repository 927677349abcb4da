package io.kdiag.common.metrics;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The series KubeDiag v0.1.6 served, by name, type and help text, and the component of ours that serves each:
 * plain counters and gauges without labels (except {@link #NODE_ABNORMAL_COUNT}, which the status writer serves per
 * node), named as KubeDiag named them, without the {@code _total} suffix of today's Prometheus clients.
 */
public enum KubeDiagMetric {
    ABNORMAL_GARBAGE_COLLECTION_SUCCESS_COUNT(Type.COUNTER, Component.STATUS_WRITER, "Counter of successful abnormal garbage collections"),
    ABNORMAL_GARBAGE_COLLECTION_ERROR_COUNT(Type.COUNTER, Component.STATUS_WRITER, "Counter of erroneous abnormal garbage collections"),
    /** Per node ({@code node} label) here; KubeDiag's agents each served their own node's, unlabelled. */
    NODE_ABNORMAL_COUNT(Type.GAUGE, Component.STATUS_WRITER, "Number of abnormals currently on node"),

    PROMETHEUS_ALERT_RECEIVED_COUNT(Type.COUNTER, Component.BRIDGE, "Counter of prometheus alerts received by alertmanager"),
    ALERTMANAGER_ABNORMAL_GENERATION_SUCCESS_COUNT(Type.COUNTER, Component.BRIDGE,
            "Counter of successful abnormal generations by alertmanager"),
    ALERTMANAGER_ABNORMAL_GENERATION_ERROR_COUNT(Type.COUNTER, Component.BRIDGE, "Counter of erroneous abnormal generations by alertmanager"),
    EVENT_RECEIVED_COUNT(Type.COUNTER, Component.BRIDGE, "Counter of events received by eventer"),
    EVENTER_ABNORMAL_GENERATION_SUCCESS_COUNT(Type.COUNTER, Component.BRIDGE, "Counter of successful abnormal generations by eventer"),
    EVENTER_ABNORMAL_GENERATION_ERROR_COUNT(Type.COUNTER, Component.BRIDGE, "Counter of erroneous abnormal generations by eventer"),
    SOURCE_MANAGER_SYNC_SUCCESS_COUNT(Type.COUNTER, Component.BRIDGE, "Counter of successful abnormal syncs by source manager"),
    SOURCE_MANAGER_SYNC_ERROR_COUNT(Type.COUNTER, Component.BRIDGE, "Counter of erroneous abnormal syncs by source manager"),
    PROMETHEUS_ALERT_GENERATED_ABNORMAL_CREATION_COUNT(Type.COUNTER, Component.BRIDGE,
            "Counter of prometheus alert generated abnormal creations by source manager"),
    EVENT_GENERATED_ABNORMAL_CREATION_COUNT(Type.COUNTER, Component.BRIDGE, "Counter of event generated abnormal creations by source manager"),

    INFORMATION_MANAGER_SYNC_SUCCESS_COUNT(Type.COUNTER, Component.AGENT, "Counter of successful abnormal syncs by information manager"),
    INFORMATION_MANAGER_SYNC_SKIP_COUNT(Type.COUNTER, Component.AGENT, "Counter of skipped abnormal syncs by information manager"),
    INFORMATION_MANAGER_SYNC_FAIL_COUNT(Type.COUNTER, Component.AGENT, "Counter of failed abnormal syncs by information manager"),
    INFORMATION_MANAGER_SYNC_ERROR_COUNT(Type.COUNTER, Component.AGENT, "Counter of erroneous abnormal syncs by information manager"),
    INFORMATION_MANAGER_COMMAND_EXECUTOR_SUCCESS_COUNT(Type.COUNTER, Component.AGENT,
            "Counter of successful command executor runs by information manager"),
    INFORMATION_MANAGER_COMMAND_EXECUTOR_FAIL_COUNT(Type.COUNTER, Component.AGENT,
            "Counter of failed command executor runs by information manager"),
    INFORMATION_MANAGER_PROFILER_SUCCESS_COUNT(Type.COUNTER, Component.AGENT, "Counter of successful profiler runs by information manager"),
    INFORMATION_MANAGER_PROFILER_FAIL_COUNT(Type.COUNTER, Component.AGENT, "Counter of failed profiler runs by information manager"),

    DIAGNOSER_CHAIN_SYNC_SUCCESS_COUNT(Type.COUNTER, Component.AGENT, "Counter of successful abnormal syncs by diagnoser chain"),
    DIAGNOSER_CHAIN_SYNC_SKIP_COUNT(Type.COUNTER, Component.AGENT, "Counter of skipped abnormal syncs by diagnoser chain"),
    DIAGNOSER_CHAIN_SYNC_FAIL_COUNT(Type.COUNTER, Component.AGENT, "Counter of failed abnormal syncs by diagnoser chain"),
    DIAGNOSER_CHAIN_SYNC_ERROR_COUNT(Type.COUNTER, Component.AGENT, "Counter of erroneous abnormal syncs by diagnoser chain"),
    DIAGNOSER_CHAIN_COMMAND_EXECUTOR_SUCCESS_COUNT(Type.COUNTER, Component.AGENT,
            "Counter of successful command executor runs by diagnoser chain"),
    DIAGNOSER_CHAIN_COMMAND_EXECUTOR_FAIL_COUNT(Type.COUNTER, Component.AGENT, "Counter of failed command executor runs by diagnoser chain"),
    DIAGNOSER_CHAIN_PROFILER_SUCCESS_COUNT(Type.COUNTER, Component.AGENT, "Counter of successful profiler runs by diagnoser chain"),
    DIAGNOSER_CHAIN_PROFILER_FAIL_COUNT(Type.COUNTER, Component.AGENT, "Counter of failed profiler runs by diagnoser chain"),

    RECOVERER_CHAIN_SYNC_SUCCESS_COUNT(Type.COUNTER, Component.AGENT, "Counter of successful abnormal syncs by recoverer chain"),
    RECOVERER_CHAIN_SYNC_SKIP_COUNT(Type.COUNTER, Component.AGENT, "Counter of skipped abnormal syncs by recoverer chain"),
    RECOVERER_CHAIN_SYNC_FAIL_COUNT(Type.COUNTER, Component.AGENT, "Counter of failed abnormal syncs by recoverer chain"),
    RECOVERER_CHAIN_SYNC_ERROR_COUNT(Type.COUNTER, Component.AGENT, "Counter of erroneous abnormal syncs by recoverer chain"),
    RECOVERER_CHAIN_COMMAND_EXECUTOR_SUCCESS_COUNT(Type.COUNTER, Component.AGENT,
            "Counter of successful command executor runs by recoverer chain"),
    RECOVERER_CHAIN_COMMAND_EXECUTOR_FAIL_COUNT(Type.COUNTER, Component.AGENT, "Counter of failed command executor runs by recoverer chain"),
    RECOVERER_CHAIN_PROFILER_SUCCESS_COUNT(Type.COUNTER, Component.AGENT, "Counter of successful profiler runs by recoverer chain"),
    RECOVERER_CHAIN_PROFILER_FAIL_COUNT(Type.COUNTER, Component.AGENT, "Counter of failed profiler runs by recoverer chain");

    /** A counter only goes up; a gauge is set. */
    public enum Type {
        COUNTER,
        GAUGE
    }

    /** Which of our components serves the series. */
    public enum Component {
        AGENT,
        BRIDGE,
        STATUS_WRITER
    }

    private final Type type;
    private final Component component;
    private final String help;

    KubeDiagMetric(Type type, Component component, String help) {
        this.type = type;
        this.component = component;
        this.help = help;
    }

    /** The series name, e.g. {@code information_manager_sync_success_count}. */
    public String seriesName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Counter or gauge. */
    public Type type() {
        return type;
    }

    /** KubeDiag's help text, unchanged. */
    public String help() {
        return help;
    }

    /** The series a component serves. */
    public static List<KubeDiagMetric> of(Component component) {
        return Arrays.stream(values()).filter(m -> m.component == component).toList();
    }
}
