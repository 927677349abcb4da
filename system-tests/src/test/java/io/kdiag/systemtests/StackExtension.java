package io.kdiag.systemtests;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Hands every test class the one {@link Stack} of the run: started by the first class that asks, closed (containers
 * and network removed) when the test run ends.
 */
final class StackExtension implements ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(StackExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == Stack.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Started started = context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent("stack", key -> start(), Started.class);
        if (started.failure() != null) {
            throw new IllegalStateException("the stack did not start", started.failure());
        }
        return started.stack();
    }

    /** A started stack, or why it did not start (remembered: the next class fails at once instead of trying again). */
    private record Started(Stack stack, RuntimeException failure) implements AutoCloseable {
        @Override
        public void close() {
            if (stack != null) {
                stack.close();
            }
        }
    }

    private static Started start() {
        Stack stack = new Stack();
        try {
            return new Started(stack.start(), null);
        } catch (RuntimeException e) {
            stack.close();
            return new Started(null, e);
        }
    }
}
