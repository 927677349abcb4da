package io.kdiag.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.kdiag.deploy.Admission.Denial;
import io.kdiag.deploy.Admission.Outcome;
import io.kdiag.deploy.Admission.Request;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.core.type.TypeReference;

/**
 * The ValidatingAdmissionPolicies of {@code deploy/base/admission-policy.yml}, evaluated as the API server would (see
 * {@link Admission}) against objects that must pass and objects that must be denied. After the last test, every
 * expression of every policy must have been evaluated, and every validation and match condition seen both true and false.
 */
class AdmissionPolicyTest {
    private static final String PARAMS = "kube-diagnoser/kdiag-admission";
    private static final String ALICE = "alice";
    private static final String ADMIN = "kubernetes-admin";
    private static final List<String> MASTERS = List.of("system:masters", "system:authenticated");
    private static final List<String> AUTHENTICATED = List.of("system:authenticated");
    private static final String BRIDGE = "system:serviceaccount:kube-diagnoser:kdiag-source-bridge";
    private static final Map<String, Map<String, Set<Outcome>>> COVERAGE = new ConcurrentHashMap<>();
    private static final Admission ADMISSION = Admission.of(Rendered.of("deploy/base"), COVERAGE);

    private static Map<String, Object> yaml(String text) {
        return Admission.json(Kustomize.SERIALIZATION.unmarshal(text, new TypeReference<Map<String, Object>>() {
        }));
    }

    private static Map<String, Object> file(String relative) {
        return yaml(Repo.read(relative));
    }

    private static List<Denial> create(String resource, Map<String, Object> object, String user, List<String> groups) {
        return ADMISSION.review(new Request("CREATE", resource, object, null, user, groups));
    }

    private static List<Denial> update(String resource, Map<String, Object> old, Map<String, Object> object, String user, List<String> groups) {
        return ADMISSION.review(new Request("UPDATE", resource, object, old, user, groups));
    }

    private static List<String> reasons(List<Denial> denials) {
        return denials.stream().map(Denial::reason).toList();
    }

    // ---- Abnormal ----------------------------------------------------------------------------------------------------

    static Stream<String> shippedAbnormals() throws Exception {
        try (Stream<Path> files = Files.list(Repo.path("examples"))) {
            List<String> examples = new ArrayList<>(files.filter(f -> f.toString().endsWith(".yaml"))
                    .map(f -> "examples/" + f.getFileName()).sorted().toList());
            examples.add("examples/cluster/pod-disk-usage-diagnosis.yaml");
            return examples.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shippedAbnormals")
    void shouldAdmitEveryShippedExampleFromATrustedGroup(String example) {
        assertThat(create("abnormals", file(example), ADMIN, MASTERS)).isEmpty();
    }

    @Test
    void shouldAdmitTheSeedAbnormalFromAnyone() {
        // DESIGN §3.1: the seed's Abnormal must be accepted unchanged
        assertThat(create("abnormals", file("schemas/src/test/resources/seed/seed-abnormal.yaml"), ALICE, AUTHENTICATED)).isEmpty();
        assertThat(create("abnormals", file("examples/cluster/pod-disk-usage-diagnosis.yaml"), ALICE, AUTHENTICATED)).isEmpty();
    }

    @Test
    void shouldDenyCommandsProfilersRecoverersAndSignalsToAnyoneElse() {
        // 01 runs commands, 02 and 03 assign the signal recoverer, 04 runs commands, 05 attaches a profiler
        for (String example : List.of("examples/01-collect-processes.yaml", "examples/04-command-policy.yaml")) {
            List<Denial> denials = create("abnormals", file(example), ALICE, AUTHENTICATED);
            assertThat(reasons(denials)).as(example).containsExactly("Forbidden");
            assertThat(denials.get(0).message()).startsWith("spec.commandExecutors may be set only by").endsWith("alice is not one of them");
        }
        for (String example : List.of("examples/02-stop-runaway-process.yaml", "examples/03-nothing-to-identify.yaml")) {
            List<Denial> denials = create("abnormals", file(example), ALICE, AUTHENTICATED);
            assertThat(denials).as(example).extracting(Denial::message).singleElement().asString().startsWith("spec.assignedRecoverers may be set only by");
        }
        List<Denial> profiled = create("abnormals", file("examples/05-profile-a-jvm.yaml"), ALICE, AUTHENTICATED);
        assertThat(profiled).extracting(Denial::message).singleElement().asString().startsWith("spec.profilers may be set only by");

        Map<String, Object> signals = yaml("""
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: kill-it, namespace: team-a}
                spec:
                  nodeName: node-1
                  source: Custom
                  context:
                    signalRecovery: [{pid: 4242, signal: 9}]
                """);
        List<Denial> denials = create("abnormals", signals, ALICE, AUTHENTICATED);
        assertThat(denials).extracting(Denial::message).singleElement().asString()
                .isEqualTo("spec.context.signalRecovery may be set only by the users and groups of ConfigMap "
                        + "kube-diagnoser/kdiag-admission; alice is not one of them");
        // the bridge creates Abnormals from rules as itself: trusted only when listed
        assertThat(create("abnormals", signals, BRIDGE, List.of("system:serviceaccounts"))).hasSize(1);
        Admission bridgeTrusted = ADMISSION.withParams(PARAMS, with(ADMISSION.params(PARAMS), "allowedUsers", "someone, " + BRIDGE));
        assertThat(bridgeTrusted.review(new Request("CREATE", "abnormals", signals, null, BRIDGE, List.of("system:serviceaccounts")))).isEmpty();
        assertThat(create("abnormals", signals, ADMIN, MASTERS)).isEmpty();
    }

    @Test
    void shouldTrustTheGroupsAndUsersOfTheParameters() {
        Map<String, Object> commands = file("examples/04-command-policy.yaml");
        Admission sre = ADMISSION.withParams(PARAMS, with(ADMISSION.params(PARAMS), "allowedGroups", " system:masters , sre "));
        assertThat(sre.review(new Request("CREATE", "abnormals", commands, null, ALICE, List.of("sre")))).isEmpty();
        assertThat(sre.review(new Request("CREATE", "abnormals", commands, null, ALICE, List.of("dev")))).hasSize(1);
        // an empty entry is nobody: a user without a name does not become trusted
        Admission empty = ADMISSION.withParams(PARAMS, with(with(ADMISSION.params(PARAMS), "allowedUsers", ","), "allowedGroups", ""));
        assertThat(empty.review(new Request("CREATE", "abnormals", commands, null, "", List.of()))).hasSize(1);
        assertThat(empty.review(new Request("CREATE", "abnormals", commands, null, ADMIN, MASTERS))).hasSize(1);
        // parameters without the keys trust nobody
        Admission none = ADMISSION.withParams(PARAMS, Map.of());
        assertThat(none.review(new Request("CREATE", "abnormals", commands, null, ADMIN, MASTERS))).hasSize(1);
    }

    @ParameterizedTest(name = "pid {0}")
    @ValueSource(strings = {"1", "0", "-1", "-4242", "\"1\"", "1.5"})
    void shouldDenyASignalToPidOneZeroOrAGroupEvenToTrustedUsers(String pid) {
        Map<String, Object> abnormal = yaml("""
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: kill-init, namespace: default}
                spec:
                  nodeName: node-1
                  context:
                    signalRecovery: [{pid: 4242, signal: 15}, {pid: %s, signal: 9}]
                """.formatted(pid));
        assertThat(reasons(create("abnormals", abnormal, ADMIN, MASTERS))).containsExactly("Invalid");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"signalRecovery: {pid: 4242}", "signalRecovery: [4242]", "signalRecovery: [{pid: abc}]", "signalRecovery: 4242"})
    void shouldDenyASignalListOfTheWrongShape(String context) {
        Map<String, Object> abnormal = yaml("""
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: odd-signals, namespace: default}
                spec:
                  nodeName: node-1
                  context:
                    %s
                """.formatted(context));
        assertThat(create("abnormals", abnormal, ADMIN, MASTERS)).isNotEmpty();
    }

    @Test
    void shouldLetAnUnchangedPrivilegedFieldThroughAnUpdateByAnyone() {
        Map<String, Object> old = file("examples/02-stop-runaway-process.yaml");
        Map<String, Object> relabelled = Admission.json(new LinkedHashMap<>(old));
        relabelled.put("metadata", Map.of("name", "stop-runaway-process", "namespace", "default", "labels", Map.of("team", "a")));
        // the bridge and the status writer patch labels, annotations and finalizers of Abnormals they did not create
        assertThat(update("abnormals", old, relabelled, BRIDGE, List.of("system:serviceaccounts"))).isEmpty();

        Map<String, Object> moreSignals = yaml("""
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: stop-runaway-process, namespace: default}
                spec:
                  assignedRecoverers: [{name: signal-recoverer, namespace: kube-diagnoser}]
                  commandExecutors: [{command: [uptime], type: InformationCollector}]
                  profilers: [{name: cpu, type: InformationCollector, java: {type: CPU}}]
                  context:
                    signalRecovery: [{pid: 4242, signal: 9}]
                """);
        Map<String, Object> old2 = yaml("""
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: stop-runaway-process, namespace: default}
                spec:
                  assignedRecoverers: [{name: signal-recoverer, namespace: kube-diagnoser}]
                  commandExecutors: [{command: [uptime], type: InformationCollector}]
                  profilers: [{name: cpu, type: InformationCollector, java: {type: CPU}}]
                  context:
                    signalRecovery: [{pid: 4242, signal: 9}]
                """);
        assertThat(update("abnormals", old2, moreSignals, ALICE, AUTHENTICATED)).isEmpty();
        Map<String, Object> changed = yaml(Kustomize.SERIALIZATION.asYaml(moreSignals).replace("4242", "4243").replace("uptime", "reboot")
                .replace("CPU", "Memory").replace("signal-recoverer", "other-recoverer"));
        assertThat(update("abnormals", old2, changed, ALICE, AUTHENTICATED)).extracting(Denial::message)
                .hasSize(4).allMatch(m -> m.endsWith("alice is not one of them"));
    }

    @Test
    void shouldIgnoreAnAbnormalWithoutSpec() {
        Map<String, Object> bare = yaml("""
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: bare, namespace: default}
                """);
        assertThat(create("abnormals", bare, ALICE, AUTHENTICATED)).isEmpty();
    }

    // ---- AbnormalSource ----------------------------------------------------------------------------------------------

    /** The rules docs/sources.md shows. */
    static Stream<Map<String, Object>> documentedSources() {
        String doc = Repo.read("docs/sources.md");
        Matcher yaml = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL).matcher(doc);
        List<Map<String, Object>> sources = new ArrayList<>();
        while (yaml.find()) {
            for (String part : yaml.group(1).split("(?m)^---\\s*$")) {
                if (part.contains("kind: AbnormalSource")) {
                    sources.add(yaml(part));
                }
            }
        }
        assertThat(sources).as("AbnormalSource examples in docs/sources.md").hasSizeGreaterThanOrEqualTo(2);
        return sources.stream();
    }

    @ParameterizedTest
    @MethodSource("documentedSources")
    void shouldAdmitTheDocumentedRulesFromAnyone(Map<String, Object> source) {
        assertThat(create("abnormalsources", source, ALICE, AUTHENTICATED)).isEmpty();
    }

    private static Map<String, Object> source(String specTail) {
        return yaml("""
                apiVersion: diagnosis.netease.com/v1
                kind: AbnormalSource
                metadata: {name: oom-rule, namespace: kube-diagnoser}
                spec:
                  sourceTemplate:
                    type: KubernetesEvent
                    kubernetesEventTemplate: {regexp: {reason: OOMKilling}}
                  assignedInformationCollectors: [{namespace: kube-diagnoser, name: process-collector}]
                """ + specTail.indent(2));
    }

    @Test
    void shouldLetAnyoneTemplateOnlyTheContextKeysOfTheParameters() {
        Map<String, Object> allowed = source("""
                assignedDiagnosers: [{namespace: kube-diagnoser, name: process-match-diagnoser}]
                context:
                  processMatch: {commandPattern: "^java "}
                  filePathInformation: [/etc/hosts]
                """);
        assertThat(create("abnormalsources", allowed, ALICE, AUTHENTICATED)).isEmpty();

        Map<String, Object> forged = source("""
                context:
                  processMatch: {commandPattern: "^java "}
                  processInformation: [{pid: 4242, command: [java]}]
                  podInformation: []
                """);
        List<Denial> denials = create("abnormalsources", forged, ALICE, AUTHENTICATED);
        assertThat(denials).extracting(Denial::message).singleElement().asString().isEqualTo("spec.context of an AbnormalSource may hold only "
                + "the keys [processMatch, filePathInformation, systemdUnitNameInformationContextKey] (sourceContextKeys of ConfigMap "
                + "kube-diagnoser/kdiag-admission), not [processInformation, podInformation]");
        assertThat(create("abnormalsources", forged, ADMIN, MASTERS)).isEmpty();
        Admission wider = ADMISSION.withParams(PARAMS, with(ADMISSION.params(PARAMS), "sourceContextKeys", "processMatch,processInformation,podInformation"));
        assertThat(wider.review(new Request("CREATE", "abnormalsources", forged, null, ALICE, AUTHENTICATED))).isEmpty();
    }

    @Test
    void shouldDenySignalsInARuleToEveryone() {
        Map<String, Object> signals = source("""
                assignedRecoverers: [{namespace: kube-diagnoser, name: signal-recoverer}]
                context:
                  signalRecovery: [{pid: 4242, signal: 9}]
                """);
        List<Denial> denials = create("abnormalsources", signals, ADMIN, MASTERS);
        assertThat(denials).extracting(Denial::message).singleElement().asString().startsWith("spec.context.signalRecovery is not allowed");
        assertThat(create("abnormalsources", signals, ALICE, AUTHENTICATED)).hasSize(3);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "commandExecutors: [{command: [uptime], type: InformationCollector}]",
        "profilers: [{name: cpu, type: InformationCollector, java: {type: CPU}}]",
        "assignedRecoverers: [{namespace: kube-diagnoser, name: signal-recoverer}]"})
    void shouldLetOnlyTrustedUsersTemplatePrivilegedWork(String field) {
        Map<String, Object> rule = source(field + "\n");
        assertThat(create("abnormalsources", rule, ALICE, AUTHENTICATED)).extracting(Denial::message).singleElement().asString()
                .startsWith("spec.commandExecutors, spec.profilers and spec.assignedRecoverers of an AbnormalSource may be set only by");
        assertThat(create("abnormalsources", rule, ADMIN, MASTERS)).isEmpty();
        // empty lists ask for nothing
        assertThat(create("abnormalsources", source(field.replaceFirst(": \\[.*", ": []") + "\n"), ALICE, AUTHENTICATED)).isEmpty();
    }

    @Test
    void shouldLetTheBridgeUpdateARuleItDidNotChange() {
        Map<String, Object> old = source("""
                assignedRecoverers: [{namespace: kube-diagnoser, name: signal-recoverer}]
                context: {processInformation: []}
                """);
        // the bridge marks a rule it cannot use, and writes lastAbnormal: the template stays as the trusted author left it
        Map<String, Object> annotated = Admission.json(new LinkedHashMap<>(old));
        annotated.put("metadata", Map.of("name", "oom-rule", "namespace", "kube-diagnoser", "annotations", Map.of("kdiag.io/rule-error", "x")));
        assertThat(update("abnormalsources", old, annotated, BRIDGE, List.of("system:serviceaccounts"))).isEmpty();
        Map<String, Object> changed = source("""
                assignedRecoverers: [{namespace: kube-diagnoser, name: other-recoverer}]
                context: {processInformation: []}
                """);
        assertThat(update("abnormalsources", old, changed, BRIDGE, List.of("system:serviceaccounts"))).hasSize(2);
        Map<String, Object> bare = yaml("""
                apiVersion: diagnosis.netease.com/v1
                kind: AbnormalSource
                metadata: {name: bare, namespace: kube-diagnoser}
                """);
        assertThat(create("abnormalsources", bare, ALICE, AUTHENTICATED)).isEmpty();
    }

    // ---- InformationCollector, Diagnoser, Recoverer ------------------------------------------------------------------

    private static Map<String, Object> registration(String kind, String spec) {
        return yaml("""
                apiVersion: diagnosis.netease.com/v1
                kind: %s
                metadata: {name: my-processor, namespace: team-a}
                spec:
                """.formatted(kind) + spec.indent(2));
    }

    static Stream<String> resources() {
        return Stream.of("informationcollectors", "diagnosers", "recoverers");
    }

    private static String kindOf(String resource) {
        return switch (resource) {
            case "informationcollectors" -> "InformationCollector";
            case "diagnosers" -> "Diagnoser";
            default -> "Recoverer";
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("resources")
    void shouldAdmitRegistrationsOfClusterServicesAndOwnBuiltIns(String resource) {
        String kind = kindOf(resource);
        String singular = resource.substring(0, resource.length() - 1);
        for (String spec : List.of(
                // KubeDiag v0.1.6 style, a Service of the cluster
                "externalIP: disk-analyzer.team-a.svc\nexternalPort: 8080\npath: /" + singular + "/diskanalyzer\nscheme: http",
                "externalIP: disk-analyzer.team-a.svc.cluster.local\nexternalPort: 443\nscheme: https",
                // v0.1.0–v0.1.5 style, the port as a number or a numeric string
                "ip: analyzer.monitoring.svc\nport: 9090\npath: analyze",
                "ip: analyzer.monitoring.svc\nport: \" 9090 \"",
                // a built-in of this kind, under another name
                "path: /" + singular + "/processcollector",
                "path: " + singular + "/podcollector\ntimeoutSeconds: 10")) {
            assertThat(create(resource, registration(kind, spec), ALICE, AUTHENTICATED)).as(spec).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("resources")
    void shouldDenyRegistrationsPointingOutsideTheCluster(String resource) {
        String kind = kindOf(resource);
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("externalIP: 203.0.113.7\nexternalPort: 80", "Forbidden");
        cases.put("externalIP: attacker.example.com\nexternalPort: 443\nscheme: https", "Forbidden");
        cases.put("ip: 169.254.169.254\nport: 80\npath: /latest/meta-data", "Forbidden");
        cases.put("ip: 127.0.0.1\nport: 8090\npath: /recoverer/signalrecoverer", "Forbidden");
        cases.put("externalIP: localhost\nexternalPort: 8090", "Forbidden");
        cases.put("externalIP: svc.team-a.svc.evil.com\nexternalPort: 80", "Forbidden");
        cases.put("externalIP: disk-analyzer.team-a.svc\nexternalPort: 8080\nscheme: file", "Invalid");
        cases.put("externalIP: disk-analyzer.team-a.svc\nexternalPort: 70000", "Invalid");
        cases.put("ip: analyzer.monitoring.svc\nport: eighty", "Invalid");
        cases.put("ip: analyzer.monitoring.svc\nport: 0", "Invalid");
        cases.put("externalIP: disk-analyzer.team-a.svc\nexternalPort: 8080\npath: /a/../../b", "Invalid");
        cases.put("externalIP: disk-analyzer.team-a.svc\nexternalPort: 8080\npath: /a?x=1", "Invalid");
        cases.put("externalIP: disk-analyzer.team-a.svc", "Invalid");
        cases.put("port: 8080", "Invalid");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            assertThat(reasons(create(resource, registration(kind, c.getKey()), ALICE, AUTHENTICATED))).as(c.getKey()).contains(c.getValue());
        }
        // processorHosts admits exactly the hosts listed
        Admission listed = ADMISSION.withParams(PARAMS, with(ADMISSION.params(PARAMS), "processorHosts", "203.0.113.7, analyzer.example.com"));
        assertThat(listed.review(new Request("CREATE", resource, registration(kind, "externalIP: 203.0.113.7\nexternalPort: 80"), null, ALICE,
                AUTHENTICATED))).isEmpty();
        assertThat(listed.review(new Request("CREATE", resource, registration(kind, "externalIP: 203.0.113.8\nexternalPort: 80"), null, ALICE,
                AUTHENTICATED))).hasSize(1);
        // another cluster domain
        Admission domain = ADMISSION.withParams(PARAMS, with(ADMISSION.params(PARAMS), "clusterDomain", "corp.internal"));
        assertThat(domain.review(new Request("CREATE", resource, registration(kind, "externalIP: a.b.svc.corp.internal\nexternalPort: 80"), null,
                ALICE, AUTHENTICATED))).isEmpty();
        assertThat(domain.review(new Request("CREATE", resource, registration(kind, "externalIP: a.b.svc.cluster.local\nexternalPort: 80"), null,
                ALICE, AUTHENTICATED))).hasSize(1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("resources")
    void shouldDenyALocalRegistrationOfAnotherKindsBuiltIn(String resource) {
        String kind = kindOf(resource);
        String other = resource.equals("recoverers") ? "informationcollector" : "recoverer";
        List<Denial> denials = create(resource, registration(kind, "path: /" + other + "/signalrecoverer"), ALICE, AUTHENTICATED);
        assertThat(denials).extracting(Denial::message).singleElement().asString()
                .startsWith("a registration without a host calls the built-ins of the agent: spec.path must be /"
                        + resource.substring(0, resource.length() - 1) + "/NAME");
        assertThat(reasons(create(resource, registration(kind, "scheme: http"), ALICE, AUTHENTICATED))).containsExactly("Forbidden");
        assertThat(reasons(create(resource, registration(kind, "path: /artifacts/x"), ALICE, AUTHENTICATED))).containsExactly("Forbidden");
    }

    @Test
    void shouldLetARegistrationMadeBeforeThePolicyBeRelabelled() {
        Map<String, Object> old = registration("Diagnoser", "externalIP: 203.0.113.7\nexternalPort: 80");
        Map<String, Object> relabelled = Admission.json(new LinkedHashMap<>(old));
        relabelled.put("metadata", Map.of("name", "my-processor", "namespace", "team-a", "labels", Map.of("owner", "b")));
        assertThat(update("diagnosers", old, relabelled, ALICE, AUTHENTICATED)).isEmpty();
        Map<String, Object> moved = registration("Diagnoser", "externalIP: 203.0.113.8\nexternalPort: 80");
        assertThat(update("diagnosers", old, moved, ALICE, AUTHENTICATED)).hasSize(1);
        Map<String, Object> bare = yaml("""
                apiVersion: diagnosis.netease.com/v1
                kind: Diagnoser
                metadata: {name: bare, namespace: team-a}
                """);
        assertThat(create("diagnosers", bare, ALICE, AUTHENTICATED)).isEmpty();
    }

    // ---- approval annotations ----------------------------------------------------------------------------------------

    private static final List<String> MAY_APPROVE = List.of("approve abnormals.diagnosis.netease.com");

    private static Map<String, Object> waiting(String namespace, Map<String, String> annotations) {
        Map<String, Object> abnormal = yaml("""
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: disk-full, namespace: %s, annotations: {team: storage}}
                spec: {nodeName: node-1, source: Custom}
                """.formatted(namespace));
        @SuppressWarnings("unchecked")
        Map<String, Object> metadata = (Map<String, Object>) abnormal.get("metadata");
        Map<String, Object> all = new LinkedHashMap<>(Map.of("team", "storage"));
        all.putAll(annotations);
        metadata.put("annotations", all);
        return abnormal;
    }

    private static List<Denial> annotate(Map<String, String> annotations, String user, List<String> grants) {
        return ADMISSION.review(new Request("UPDATE", "abnormals", waiting("default", annotations), waiting("default", Map.of()), user,
                AUTHENTICATED, grants));
    }

    @Test
    void shouldAdmitAnApprovalAnnotationOnlyFromThePersonItNamesWhoMayApprove() {
        assertThat(annotate(Map.of("kdiag.io/approval", "approve", "kdiag.io/approval-by", ALICE, "kdiag.io/approval-reason", "known"),
                ALICE, MAY_APPROVE)).isEmpty();
        assertThat(annotate(Map.of("kdiag.io/approval", "deny", "kdiag.io/approval-by", ALICE), ALICE, MAY_APPROVE)).isEmpty();

        // someone else's name: the bridge would relay it as alice's decision
        List<Denial> impersonated = annotate(Map.of("kdiag.io/approval", "approve", "kdiag.io/approval-by", ALICE), "mallory",
                List.of("approve abnormals.diagnosis.netease.com", "update abnormals.diagnosis.netease.com"));
        assertThat(impersonated).extracting(Denial::message).containsExactly("kdiag.io/approval-by must name whoever sets it: mallory");

        // their own name, without the right to approve
        List<Denial> unauthorised = annotate(Map.of("kdiag.io/approval", "approve", "kdiag.io/approval-by", "bob"), "bob",
                List.of("update abnormals.diagnosis.netease.com", "approve recoverers.diagnosis.netease.com"));
        assertThat(unauthorised).extracting(Denial::reason, Denial::message).containsExactly(tuple("Forbidden",
                "bob may not approve abnormals in namespace default (verb approve on abnormals.diagnosis.netease.com, e.g. the "
                        + "ClusterRole kdiag-approver)"));

        // a right in one namespace only
        List<String> teamA = List.of("approve abnormals.diagnosis.netease.com team-a");
        assertThat(ADMISSION.review(new Request("UPDATE", "abnormals", waiting("team-a", Map.of("kdiag.io/approval", "approve",
                "kdiag.io/approval-by", ALICE)), waiting("team-a", Map.of()), ALICE, AUTHENTICATED, teamA))).isEmpty();
        assertThat(annotate(Map.of("kdiag.io/approval", "approve", "kdiag.io/approval-by", ALICE), ALICE, teamA)).hasSize(1);

        assertThat(annotate(Map.of("kdiag.io/approval", "yes", "kdiag.io/approval-by", ALICE), ALICE, MAY_APPROVE))
                .extracting(Denial::reason, Denial::message).containsExactly(tuple("Invalid", "kdiag.io/approval must be approve or deny"));
        // a reason added by someone else is a change of the decision
        assertThat(ADMISSION.review(new Request("UPDATE", "abnormals",
                waiting("default", Map.of("kdiag.io/approval", "approve", "kdiag.io/approval-by", ALICE, "kdiag.io/approval-reason", "x")),
                waiting("default", Map.of("kdiag.io/approval", "approve", "kdiag.io/approval-by", ALICE)), "mallory", AUTHENTICATED,
                MAY_APPROVE))).hasSize(1);
    }

    @Test
    void shouldLetAnyoneKeepOrRemoveApprovalAnnotations() {
        Map<String, String> decided = Map.of("kdiag.io/approval", "approve", "kdiag.io/approval-by", ALICE);
        // another change to an annotated Abnormal, by someone with no right to approve
        Map<String, Object> relabelled = waiting("default", decided);
        @SuppressWarnings("unchecked")
        Map<String, Object> metadata = (Map<String, Object>) relabelled.get("metadata");
        metadata.put("labels", Map.of("x", "y"));
        assertThat(update("abnormals", waiting("default", decided), relabelled, "bob", AUTHENTICATED)).isEmpty();
        // the bridge removes them once relayed
        assertThat(update("abnormals", waiting("default", decided), waiting("default", Map.of()), BRIDGE, List.of("system:serviceaccounts")))
                .isEmpty();
        // created with a decision: the same rules as an update
        assertThat(ADMISSION.review(new Request("CREATE", "abnormals", waiting("default", decided), null, ALICE, AUTHENTICATED, MAY_APPROVE)))
                .isEmpty();
        assertThat(create("abnormals", waiting("default", decided), ALICE, AUTHENTICATED)).hasSize(1);
    }

    // ---- the policies themselves -------------------------------------------------------------------------------------

    @Test
    void shouldReadOnlyFieldsTheCrdsDeclare() {
        Map<String, Set<String>> specFields = new LinkedHashMap<>();
        for (Map<String, Object> crd : Rendered.of("deploy/base").ofKind("CustomResourceDefinition").toList()) {
            Map<?, ?> spec = (Map<?, ?>) crd.get("spec");
            String plural = String.valueOf(((Map<?, ?>) spec.get("names")).get("plural"));
            Map<?, ?> schema = (Map<?, ?>) ((Map<?, ?>) ((List<?>) spec.get("versions")).get(0)).get("schema");
            Map<?, ?> specSchema = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) schema.get("openAPIV3Schema")).get("properties")).get("spec");
            Set<String> fields = new LinkedHashSet<>();
            ((Map<?, ?>) specSchema.get("properties")).keySet().forEach(k -> fields.add(String.valueOf(k)));
            specFields.put(plural, fields);
        }
        Pattern field = Pattern.compile("[oO]bject\\.spec\\.([A-Za-z]+)");
        for (Map<String, Object> policy : ADMISSION.policies()) {
            String text = Kustomize.SERIALIZATION.asYaml(policy.get("spec"));
            List<String> resources = new ArrayList<>();
            Matcher rules = Pattern.compile("resources:\\s*\\n((?:\\s*- .*\\n)+)").matcher(text);
            while (rules.find()) {
                rules.group(1).lines().map(l -> l.replaceFirst("^\\s*- ", "").replace("\"", "").strip()).forEach(resources::add);
            }
            assertThat(resources).as(Kustomize.name(policy)).isNotEmpty();
            Matcher m = field.matcher(text);
            while (m.find()) {
                for (String resource : resources) {
                    assertThat(specFields.get(resource)).as(Kustomize.name(policy) + " reads spec." + m.group(1) + " of " + resource)
                            .contains(m.group(1));
                }
            }
        }
    }

    @AfterAll
    static void shouldHaveEvaluatedEveryExpressionBothWays() {
        for (Map<String, Object> policy : ADMISSION.policies()) {
            String name = Kustomize.name(policy);
            @SuppressWarnings("unchecked")
            Map<String, Object> spec = (Map<String, Object>) policy.get("spec");
            Map<String, Set<Outcome>> seen = COVERAGE.getOrDefault(name, Map.of());
            List<String> problems = new ArrayList<>();
            for (Object c : (List<?>) spec.getOrDefault("matchConditions", List.of())) {
                String key = "matchCondition: " + ((Map<?, ?>) c).get("expression");
                if (!seen.getOrDefault(key, Set.of()).containsAll(Set.of(Outcome.TRUE, Outcome.FALSE))) {
                    problems.add(key + " seen " + seen.get(key));
                }
            }
            for (Object v : (List<?>) spec.getOrDefault("variables", List.of())) {
                String key = "variable " + ((Map<?, ?>) v).get("name") + ": " + ((Map<?, ?>) v).get("expression");
                Set<Outcome> outcomes = seen.getOrDefault(key, Set.of());
                if (outcomes.isEmpty() || outcomes.equals(Set.of(Outcome.ERROR))) {
                    problems.add(key + " seen " + outcomes);
                }
            }
            for (Object v : (List<?>) spec.get("validations")) {
                Map<?, ?> validation = (Map<?, ?>) v;
                String key = "validation: " + validation.get("expression");
                if (!seen.getOrDefault(key, Set.of()).containsAll(Set.of(Outcome.TRUE, Outcome.FALSE))) {
                    problems.add(key + " seen " + seen.get(key));
                }
                if (validation.get("messageExpression") != null) {
                    String message = "messageExpression: " + validation.get("messageExpression");
                    if (!seen.getOrDefault(message, Set.of()).contains(Outcome.VALUE)) {
                        problems.add(message + " seen " + seen.get(message));
                    }
                }
            }
            assertThat(problems).as(name + ": expressions not evaluated (or a validation not seen both to admit and to deny)").isEmpty();
        }
    }

    private static Map<String, String> with(Map<String, String> data, String key, String value) {
        Map<String, String> copy = new LinkedHashMap<>(data);
        copy.put(key, value);
        return copy;
    }
}
