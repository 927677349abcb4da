package io.kdiag.api.v1;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;

/** A fault on a node, and the state of its diagnosis in {@code .status}. */
@Group(Abnormal.GROUP)
@Version(Abnormal.VERSION)
@Kind("Abnormal")
@Plural("abnormals")
@Singular("abnormal")
@ShortNames("abn")
@AdditionalPrinterColumn(name = "Node", jsonPath = ".spec.nodeName", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Source", jsonPath = ".spec.source", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class Abnormal extends CustomResource<AbnormalSpec, AbnormalStatus> implements Namespaced {
    /** The API group. */
    public static final String GROUP = "diagnosis.netease.com";
    /** The API version. */
    public static final String VERSION = "v1";
    /** {@code apiVersion} of every kind in this package. */
    public static final String API_VERSION = GROUP + "/" + VERSION;
}
