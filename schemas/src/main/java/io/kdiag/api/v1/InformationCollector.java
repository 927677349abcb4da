package io.kdiag.api.v1;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;

/** A processor that gathers what diagnosis needs; its output lands in {@code status.context}. */
@Group(Abnormal.GROUP)
@Version(Abnormal.VERSION)
@Kind("InformationCollector")
@Plural("informationcollectors")
public class InformationCollector extends CustomResource<ProcessorSpec, ProcessorStatus> implements Namespaced {
}
