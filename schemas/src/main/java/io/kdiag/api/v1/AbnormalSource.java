package io.kdiag.api.v1;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;

/** A rule that turns matching Kubernetes Events or Prometheus alerts into Abnormals. */
@Group(Abnormal.GROUP)
@Version(Abnormal.VERSION)
@Kind("AbnormalSource")
@Plural("abnormalsources")
public class AbnormalSource extends CustomResource<AbnormalSourceSpec, AbnormalSourceStatus> implements Namespaced {
}
