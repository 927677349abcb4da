package io.kdiag.deploy;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.common.values.NullValue;
import dev.cel.extensions.CelExtensions;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;

/**
 * The API server's ValidatingAdmissionPolicy evaluation, for the policies these manifests ship: match a request against
 * each binding's policy (resource rules, then {@code matchConditions}), bind {@code object}, {@code oldObject},
 * {@code params}, {@code request} and lazily computed {@code variables} as the API server does, and run every validation
 * with the policy's failure policy. CEL is Google's CEL for Java, with the strings, lists and sets extensions the API
 * server also enables, and the {@code authorizer} of {@link Authorization}; objects are bound as JSON values (int64,
 * double, string, bool, list, map, null).
 *
 * <p>Every expression evaluated is recorded with its outcome, so a test can insist that each one was evaluated, and
 * that each validation was seen both to admit and to deny.
 */
final class Admission {
    private static final CelOptions OPTIONS = CelOptions.current().build();
    private static final Cel CEL = CelFactory.standardCelBuilder()
            .setOptions(OPTIONS)
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addCompilerLibraries(CelExtensions.strings(), CelExtensions.lists(), CelExtensions.sets(OPTIONS))
            .addRuntimeLibraries(CelExtensions.strings(), CelExtensions.lists(), CelExtensions.sets(OPTIONS))
            .addVar("object", SimpleType.DYN)
            .addVar("oldObject", SimpleType.DYN)
            .addVar("params", SimpleType.DYN)
            .addVar("request", SimpleType.DYN)
            .addVar("namespaceObject", SimpleType.DYN)
            .addVar("variables", MapType.create(SimpleType.STRING, SimpleType.DYN))
            .addVar("authorizer", Authorization.AUTHORIZER)
            .addFunctionDeclarations(Authorization.DECLARATIONS)
            .addFunctionBindings(Authorization.BINDINGS)
            .build();

    /** What an expression evaluated to, for coverage. */
    enum Outcome { TRUE, FALSE, VALUE, ERROR }

    /**
     * One admission request.
     *
     * @param operation CREATE or UPDATE
     * @param resource the plural resource name, e.g. {@code abnormals}
     * @param object the object as submitted
     * @param oldObject the stored object on UPDATE, else {@code null}
     * @param username who asks
     * @param groups the groups they are in
     * @param grants what the cluster's authorizer allows them, as {@link Authorization} reads it
     */
    record Request(String operation, String resource, Map<String, Object> object, Map<String, Object> oldObject, String username,
                   List<String> groups, List<String> grants) {
        /** A request of someone the authorizer allows nothing that a policy asks about. */
        Request(String operation, String resource, Map<String, Object> object, Map<String, Object> oldObject, String username,
                List<String> groups) {
            this(operation, resource, object, oldObject, username, groups, List.of());
        }
    }

    /**
     * A refusal.
     *
     * @param policy the policy that refused
     * @param reason the validation's reason, or {@code EvaluationError} when the failure policy refused
     * @param message the message the user sees
     */
    record Denial(String policy, String reason, String message) {
    }

    private final List<Map<String, Object>> policies;
    private final List<Map<String, Object>> bindings;
    private final Map<String, Map<String, Object>> configMaps;
    private final Map<String, Map<String, Set<Outcome>>> coverage;

    private Admission(List<Map<String, Object>> policies, List<Map<String, Object>> bindings, Map<String, Map<String, Object>> configMaps,
            Map<String, Map<String, Set<Outcome>>> coverage) {
        this.policies = policies;
        this.bindings = bindings;
        this.configMaps = configMaps;
        this.coverage = coverage;
    }

    /** The policies, bindings and parameter ConfigMaps of a rendered kustomization. */
    static Admission of(Rendered rendered, Map<String, Map<String, Set<Outcome>>> coverage) {
        Map<String, Map<String, Object>> configMaps = new HashMap<>();
        rendered.ofKind("ConfigMap").forEach(c -> configMaps.put(namespace(c) + "/" + Kustomize.name(c), json(c)));
        return new Admission(rendered.ofKind("ValidatingAdmissionPolicy").map(Admission::json).toList(),
                rendered.ofKind("ValidatingAdmissionPolicyBinding").map(Admission::json).toList(), configMaps, coverage);
    }

    /** The same policies with the data of one parameter ConfigMap ({@code namespace/name}) replaced. */
    Admission withParams(String configMap, Map<String, String> data) {
        Map<String, Map<String, Object>> changed = new HashMap<>(configMaps);
        Map<String, Object> copy = new LinkedHashMap<>(changed.get(configMap));
        copy.put("data", new LinkedHashMap<String, Object>(data));
        changed.put(configMap, copy);
        return new Admission(policies, bindings, changed, coverage);
    }

    /** The parameter ConfigMap's data, as shipped. */
    @SuppressWarnings("unchecked")
    Map<String, String> params(String configMap) {
        Map<String, String> data = new LinkedHashMap<>();
        ((Map<String, Object>) configMaps.get(configMap).get("data")).forEach((k, v) -> data.put(k, String.valueOf(v)));
        return data;
    }

    /** The policies, as loaded. */
    List<Map<String, Object>> policies() {
        return policies;
    }

    /** Every denial of the request; empty when it is admitted. */
    List<Denial> review(Request request) {
        List<Denial> denials = new ArrayList<>();
        for (Map<String, Object> binding : bindings) {
            Map<String, Object> bindingSpec = map(binding.get("spec"));
            String policyName = String.valueOf(bindingSpec.get("policyName"));
            Map<String, Object> policy = policies.stream().filter(p -> Kustomize.name(p).equals(policyName)).findFirst()
                    .orElseThrow(() -> new AssertionError("binding " + Kustomize.name(binding) + " names no policy"));
            Map<String, Object> spec = map(policy.get("spec"));
            if (!matches(map(spec.get("matchConstraints")), request)) {
                continue;
            }
            boolean failOpen = "Ignore".equals(spec.get("failurePolicy"));
            Object params = NullValue.NULL_VALUE;
            if (spec.get("paramKind") != null) {
                Map<String, Object> ref = map(bindingSpec.get("paramRef"));
                Map<String, Object> configMap = configMaps.get(ref.get("namespace") + "/" + ref.get("name"));
                if (configMap == null) {
                    if ("Deny".equals(ref.get("parameterNotFoundAction"))) {
                        denials.add(new Denial(policyName, "ParamNotFound", "no parameters " + ref.get("name")));
                    }
                    continue;
                }
                params = configMap;
            }
            Map<String, Object> activation = new HashMap<>();
            activation.put("object", request.object() == null ? NullValue.NULL_VALUE : json(request.object()));
            activation.put("oldObject", request.oldObject() == null ? NullValue.NULL_VALUE : json(request.oldObject()));
            activation.put("params", params);
            activation.put("request", requestValue(request));
            activation.put("namespaceObject", NullValue.NULL_VALUE);
            activation.put("authorizer", new Authorization.Authorizer(request.grants()));
            activation.put("variables", new LazyVariables(policyName, list(spec.get("variables")), activation));

            Boolean applies = matchConditions(policyName, list(spec.get("matchConditions")), activation);
            if (applies == null) {
                if (!failOpen) {
                    denials.add(new Denial(policyName, "EvaluationError", "a match condition could not be evaluated"));
                }
                continue;
            }
            if (!applies) {
                continue;
            }
            for (Object v : list(spec.get("validations"))) {
                Map<String, Object> validation = map(v);
                String expression = String.valueOf(validation.get("expression"));
                Object result;
                try {
                    result = evaluate(policyName, "validation: " + expression, expression, activation);
                } catch (CelEvaluationException e) {
                    if (!failOpen) {
                        denials.add(new Denial(policyName, "EvaluationError", "expression '" + expression + "' failed: " + e.getMessage()));
                    }
                    continue;
                }
                if (!(result instanceof Boolean ok)) {
                    throw new AssertionError(policyName + ": validation '" + expression + "' gave " + result + ", not a bool");
                }
                if (!ok) {
                    denials.add(new Denial(policyName, String.valueOf(validation.getOrDefault("reason", "Invalid")),
                            message(policyName, validation, expression, activation)));
                }
            }
        }
        return denials;
    }

    private Boolean matchConditions(String policy, List<Object> conditions, Map<String, Object> activation) {
        for (Object c : conditions) {
            String expression = String.valueOf(map(c).get("expression"));
            try {
                Object result = evaluate(policy, "matchCondition: " + expression, expression, activation);
                if (Boolean.FALSE.equals(result)) {
                    return false;
                }
                if (!Boolean.TRUE.equals(result)) {
                    throw new AssertionError(policy + ": match condition '" + expression + "' gave " + result + ", not a bool");
                }
            } catch (CelEvaluationException e) {
                return null;
            }
        }
        return true;
    }

    /** The API server's message: the messageExpression's if it gives a non-blank string, else the message, else a default. */
    private String message(String policy, Map<String, Object> validation, String expression, Map<String, Object> activation) {
        Object messageExpression = validation.get("messageExpression");
        if (messageExpression != null) {
            try {
                Object text = evaluate(policy, "messageExpression: " + messageExpression, String.valueOf(messageExpression), activation);
                if (!(text instanceof String s)) {
                    throw new AssertionError(policy + ": messageExpression gave " + text + ", not a string");
                }
                if (!s.isBlank()) {
                    return s;
                }
            } catch (CelEvaluationException e) {
                // the API server logs it and falls back to the message
            }
        }
        Object message = validation.get("message");
        return message != null ? String.valueOf(message) : "failed expression: " + expression;
    }

    private Object evaluate(String policy, String key, String expression, Map<String, Object> activation) throws CelEvaluationException {
        Object result;
        try {
            result = program(expression).eval(activation);
        } catch (CelEvaluationException | VariableException e) {
            record(policy, key, Outcome.ERROR);
            if (e instanceof VariableException v) {
                throw v.cause;
            }
            throw (CelEvaluationException) e;
        }
        record(policy, key, Boolean.TRUE.equals(result) ? Outcome.TRUE : Boolean.FALSE.equals(result) ? Outcome.FALSE : Outcome.VALUE);
        return result;
    }

    private void record(String policy, String key, Outcome outcome) {
        coverage.computeIfAbsent(policy, p -> new ConcurrentHashMap<>()).computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(outcome);
    }

    private static final Map<String, CelRuntime.Program> PROGRAMS = new ConcurrentHashMap<>();

    /** The compiled and checked program of an expression; a syntax or type error fails the test. */
    static CelRuntime.Program program(String expression) {
        return PROGRAMS.computeIfAbsent(expression, e -> {
            try {
                CelAbstractSyntaxTree ast = CEL.compile(e).getAst();
                return CEL.createProgram(ast);
            } catch (CelValidationException | CelEvaluationException x) {
                throw new AssertionError("CEL does not compile: " + e + "\n" + x.getMessage(), x);
            }
        });
    }

    private static boolean matches(Map<String, Object> constraints, Request request) {
        for (Object r : list(constraints.get("resourceRules"))) {
            Map<String, Object> rule = map(r);
            if (contains(rule.get("apiGroups"), "diagnosis.netease.com") && contains(rule.get("resources"), request.resource())
                    && contains(rule.get("operations"), request.operation()) && contains(rule.get("apiVersions"), "v1")) {
                return true;
            }
        }
        return false;
    }

    private static boolean contains(Object values, String value) {
        List<Object> list = list(values);
        return list.contains(value) || list.contains("*");
    }

    /** {@code request} as the API server binds it (admission.k8s.io AdmissionRequest fields). */
    private static Map<String, Object> requestValue(Request request) {
        Map<String, Object> object = request.object() == null ? request.oldObject() : request.object();
        Map<String, Object> metadata = map(object.getOrDefault("metadata", Map.of()));
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("kind", Map.of("group", "diagnosis.netease.com", "version", "v1", "kind", String.valueOf(object.get("kind"))));
        value.put("resource", Map.of("group", "diagnosis.netease.com", "version", "v1", "resource", request.resource()));
        value.put("requestKind", value.get("kind"));
        value.put("requestResource", value.get("resource"));
        value.put("name", String.valueOf(metadata.getOrDefault("name", "")));
        value.put("namespace", String.valueOf(metadata.getOrDefault("namespace", "")));
        value.put("operation", request.operation());
        value.put("userInfo", Map.of("username", request.username(), "uid", "uid-" + request.username(), "groups", List.copyOf(request.groups())));
        value.put("dryRun", false);
        return value;
    }

    /** A YAML/JSON value as CEL sees JSON: integers as int64, other numbers as double. */
    @SuppressWarnings("unchecked")
    static <T> T json(T value) {
        if (value instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(String.valueOf(k), v == null ? NullValue.NULL_VALUE : json(v)));
            return (T) out;
        }
        if (value instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            l.forEach(v -> out.add(v == null ? NullValue.NULL_VALUE : json(v)));
            return (T) out;
        }
        if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return (T) Long.valueOf(((Number) value).longValue());
        }
        if (value instanceof java.math.BigInteger b) {
            return (T) Long.valueOf(b.longValueExact());
        }
        if (value instanceof Float || value instanceof java.math.BigDecimal) {
            return (T) Double.valueOf(((Number) value).doubleValue());
        }
        return value;
    }

    private static String namespace(Map<String, Object> resource) {
        return String.valueOf(map(resource.getOrDefault("metadata", Map.of())).get("namespace"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return value == null ? Map.of() : (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object value) {
        return value == null ? List.of() : (List<Object>) value;
    }

    /** An error of a variable, surfacing where the variable is used, as in the API server. */
    private static final class VariableException extends RuntimeException {
        private final CelEvaluationException cause;

        VariableException(CelEvaluationException cause) {
            super(cause.getMessage(), cause);
            this.cause = cause;
        }
    }

    /** {@code variables}: each one computed when first used, in the activation of its policy, and kept. */
    private final class LazyVariables extends AbstractMap<String, Object> {
        private final String policy;
        private final Map<String, String> expressions = new LinkedHashMap<>();
        private final Map<String, Object> activation;
        private final Map<String, Object> values = new HashMap<>();

        LazyVariables(String policy, List<Object> variables, Map<String, Object> activation) {
            this.policy = policy;
            this.activation = activation;
            variables.forEach(v -> expressions.put(String.valueOf(map(v).get("name")), String.valueOf(map(v).get("expression"))));
        }

        @Override
        public boolean containsKey(Object key) {
            return expressions.containsKey(key);
        }

        @Override
        public Object get(Object key) {
            String name = String.valueOf(key);
            if (!expressions.containsKey(name)) {
                return null;
            }
            if (!values.containsKey(name)) {
                try {
                    values.put(name, evaluate(policy, "variable " + name + ": " + expressions.get(name), expressions.get(name), activation));
                } catch (CelEvaluationException e) {
                    throw new VariableException(e);
                }
            }
            return values.get(name);
        }

        @Override
        public Set<Entry<String, Object>> entrySet() {
            throw new UnsupportedOperationException("variables are computed one by one, when used");
        }
    }
}
