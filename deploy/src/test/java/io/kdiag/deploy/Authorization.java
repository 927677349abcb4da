package io.kdiag.deploy;

import java.util.List;

import dev.cel.common.CelFunctionDecl;
import dev.cel.common.CelOverloadDecl;
import dev.cel.common.types.OpaqueType;
import dev.cel.common.types.SimpleType;
import dev.cel.runtime.CelFunctionBinding;

/**
 * The part of the API server's CEL authorizer library the shipped policies use:
 * {@code authorizer.group(G).resource(R).namespace(NS).name(N).check(VERB).allowed()}. What a user is allowed comes
 * from the request's grants, each {@code "VERB RESOURCE.GROUP"} (any namespace) or {@code "VERB RESOURCE.GROUP NAMESPACE"},
 * as a ClusterRoleBinding or a RoleBinding of a role with that rule would allow.
 */
final class Authorization {
    static final OpaqueType AUTHORIZER = OpaqueType.create("kubernetes.authorization.Authorizer");
    private static final OpaqueType GROUP_CHECK = OpaqueType.create("kubernetes.authorization.GroupCheck");
    private static final OpaqueType RESOURCE_CHECK = OpaqueType.create("kubernetes.authorization.ResourceCheck");
    private static final OpaqueType DECISION = OpaqueType.create("kubernetes.authorization.Decision");

    static final List<CelFunctionDecl> DECLARATIONS = List.of(
            CelFunctionDecl.newFunctionDeclaration("group", CelOverloadDecl.newMemberOverload("authorizer_group", GROUP_CHECK, AUTHORIZER,
                    SimpleType.STRING)),
            CelFunctionDecl.newFunctionDeclaration("resource", CelOverloadDecl.newMemberOverload("groupcheck_resource", RESOURCE_CHECK,
                    GROUP_CHECK, SimpleType.STRING)),
            CelFunctionDecl.newFunctionDeclaration("namespace", CelOverloadDecl.newMemberOverload("resourcecheck_namespace", RESOURCE_CHECK,
                    RESOURCE_CHECK, SimpleType.STRING)),
            CelFunctionDecl.newFunctionDeclaration("name", CelOverloadDecl.newMemberOverload("resourcecheck_name", RESOURCE_CHECK,
                    RESOURCE_CHECK, SimpleType.STRING)),
            CelFunctionDecl.newFunctionDeclaration("check", CelOverloadDecl.newMemberOverload("resourcecheck_check", DECISION,
                    RESOURCE_CHECK, SimpleType.STRING)),
            CelFunctionDecl.newFunctionDeclaration("allowed", CelOverloadDecl.newMemberOverload("decision_allowed", SimpleType.BOOL,
                    DECISION)));

    static final List<CelFunctionBinding> BINDINGS = List.of(
            CelFunctionBinding.from("authorizer_group", Authorizer.class, String.class, (a, group) -> new ResourceCheck(a.grants(), group,
                    "", "", "")),
            CelFunctionBinding.from("groupcheck_resource", ResourceCheck.class, String.class, (c, resource) -> new ResourceCheck(c.grants(),
                    c.group(), resource, c.namespace(), c.name())),
            CelFunctionBinding.from("resourcecheck_namespace", ResourceCheck.class, String.class, (c, namespace) -> new ResourceCheck(
                    c.grants(), c.group(), c.resource(), namespace, c.name())),
            CelFunctionBinding.from("resourcecheck_name", ResourceCheck.class, String.class, (c, name) -> new ResourceCheck(c.grants(),
                    c.group(), c.resource(), c.namespace(), name)),
            CelFunctionBinding.from("resourcecheck_check", ResourceCheck.class, String.class, ResourceCheck::check),
            CelFunctionBinding.from("decision_allowed", Decision.class, Decision::allowed));

    private Authorization() {
    }

    /** {@code authorizer}, for the user whose grants these are. */
    record Authorizer(List<String> grants) {
    }

    /** A group check (no resource yet) or a resource check. */
    record ResourceCheck(List<String> grants, String group, String resource, String namespace, String name) {
        Decision check(String verb) {
            String what = resource + "." + group;
            return new Decision(grants.stream().map(g -> g.split(" ")).anyMatch(g -> g[0].equals(verb) && g[1].equals(what)
                    && (g.length < 3 || g[2].equals(namespace))));
        }
    }

    /** What the authorizer decided. */
    record Decision(boolean allowed) {
    }
}
