package io.kdiag.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import org.junit.jupiter.api.Test;

/**
 * Each component's role grants exactly the API calls its code makes. The table below is those calls, read from the
 * code (fabric8 semantics: an informer lists and watches; {@code edit}/{@code editStatus} get the object and patch;
 * {@code replaceStatus} updates the status subresource); a new call needs a row here and a rule in the manifest.
 */
class RbacTest {
    private static final String CORE = "";
    private static final String KDIAG = "diagnosis.netease.com";

    /** Service account → "group/resource verb" of every call its code makes. */
    private static final Map<String, Set<String>> CALLS = Map.of(
            "kdiag-node-agent", Set.of(
                    // Cluster: informer on the pods of this node (fieldSelector spec.nodeName)
                    call(CORE, "pods", "list"), call(CORE, "pods", "watch"),
                    // Cluster: informers on the remote processor registrations
                    call(KDIAG, "informationcollectors", "list"), call(KDIAG, "informationcollectors", "watch"),
                    call(KDIAG, "diagnosers", "list"), call(KDIAG, "diagnosers", "watch"),
                    call(KDIAG, "recoverers", "list"), call(KDIAG, "recoverers", "watch"),
                    // the log-source container of the agent pod (same account), CrMirror: a CR per abnormal it starts
                    call(KDIAG, "abnormals", "create")),
            "kdiag-source-bridge", Set.of(
                    // AbnormalInformer: informer on Abnormals; editStatus (NodeNotFound) gets the object, patches status
                    call(KDIAG, "abnormals", "list"), call(KDIAG, "abnormals", "watch"), call(KDIAG, "abnormals", "get"),
                    call(KDIAG, "abnormals/status", "patch"),
                    // ApprovalRelay: the Abnormal as seen, without the approval annotations it relayed (update under its resourceVersion)
                    call(KDIAG, "abnormals", "update"),
                    // CrMirror: Abnormals for events, alerts and log lines
                    call(KDIAG, "abnormals", "create"),
                    // RuleBook: informer on AbnormalSources; edit and editStatus (rule state and errors)
                    call(KDIAG, "abnormalsources", "list"), call(KDIAG, "abnormalsources", "watch"),
                    call(KDIAG, "abnormalsources", "get"), call(KDIAG, "abnormalsources", "patch"),
                    call(KDIAG, "abnormalsources/status", "patch"),
                    // EventSource: informer on Events
                    call(CORE, "events", "list"), call(CORE, "events", "watch"),
                    // PodNodes: the node of a referenced pod
                    call(CORE, "pods", "get")),
            "kdiag-status-writer", Set.of(
                    // CrStatusWriter: get then replaceStatus; the periodic list to reconcile and collect garbage
                    call(KDIAG, "abnormals", "get"), call(KDIAG, "abnormals", "list"),
                    call(KDIAG, "abnormals/status", "update"),
                    // garbage collection of finished Abnormals past kdiag.abnormal-ttl
                    call(KDIAG, "abnormals", "delete"),
                    // ApprovalRelay: who the caller of POST .../approve|deny is, and whether they may approve
                    call("authentication.k8s.io", "tokenreviews", "create"),
                    call("authorization.k8s.io", "subjectaccessreviews", "create")));

    @Test
    void shouldGrantEachComponentExactlyTheCallsItsCodeMakes() {
        Rendered r = Rendered.of("deploy/base");
        Map<String, ClusterRole> roles = new java.util.HashMap<>();
        r.all("ClusterRole", ClusterRole.class).forEach(role -> roles.put(role.getMetadata().getName(), role));
        assertThat(r.all("Role", Object.class)).as("namespaced roles").isEmpty();
        assertThat(r.podSpecs().values()).extracting(p -> p.getServiceAccountName()).containsOnlyOnceElementsOf(CALLS.keySet());

        for (Map.Entry<String, Set<String>> component : CALLS.entrySet()) {
            Set<String> granted = new TreeSet<>();
            for (ClusterRoleBinding b : r.all("ClusterRoleBinding", ClusterRoleBinding.class)) {
                if (b.getSubjects().stream().anyMatch(s -> s.getName().equals(component.getKey()))) {
                    for (PolicyRule rule : roles.get(b.getRoleRef().getName()).getRules()) {
                        assertThat(rule.getResourceNames()).as("no narrowing by name that the table cannot express").isEmpty();
                        assertThat(rule.getNonResourceURLs()).isEmpty();
                        for (String group : rule.getApiGroups()) {
                            for (String resource : rule.getResources()) {
                                for (String verb : rule.getVerbs()) {
                                    assertThat(group + resource + verb).as("wildcards").doesNotContain("*");
                                    granted.add(call(group, resource, verb));
                                }
                            }
                        }
                    }
                }
            }
            assertThat(granted).as(component.getKey()).containsExactlyInAnyOrderElementsOf(component.getValue());
        }
    }

    @Test
    void shouldOfferTheVerbApproveOnAbnormalsAloneForOperatorsToBind() {
        ClusterRole approver = Rendered.of("deploy/base").all("ClusterRole", ClusterRole.class).stream()
                .filter(role -> role.getMetadata().getName().equals("kdiag-approver")).findFirst().orElseThrow();

        assertThat(approver.getRules()).singleElement().satisfies(rule -> {
            assertThat(rule.getApiGroups()).containsExactly(KDIAG);
            assertThat(rule.getResources()).containsExactly("abnormals");
            assertThat(rule.getVerbs()).containsExactly("approve");
        });
        assertThat(Rendered.of("deploy/base").all("ClusterRoleBinding", ClusterRoleBinding.class))
                .as("nobody approves until an operator binds the role").noneMatch(b -> b.getRoleRef().getName().equals("kdiag-approver"));
    }

    private static String call(String group, String resource, String verb) {
        return (group.isEmpty() ? "core" : group) + "/" + resource + " " + verb;
    }
}
