package io.kdiag.api.v1;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;

/** A processor that acts on an identified fault. */
@Group(Abnormal.GROUP)
@Version(Abnormal.VERSION)
@Kind("Recoverer")
@Plural("recoverers")
public class Recoverer extends CustomResource<ProcessorSpec, ProcessorStatus> implements Namespaced {
}
