package io.kdiag.api.v1;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A reference to a namespaced object, such as a processor registration. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NamespacedName {
    /** Namespace of the object. */
    public String namespace;
    /** Name of the object. */
    public String name;

    /** An empty reference, for deserialisation. */
    public NamespacedName() {
    }

    /** A reference to {@code namespace/name}. */
    public NamespacedName(String namespace, String name) {
        this.namespace = namespace;
        this.name = name;
    }

    @Override
    public String toString() {
        return namespace + "/" + name;
    }
}
