package io.kdiag.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.CustomResource;
import io.kdiag.api.v1.Abnormal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** deploy/base/crds holds exactly what the fabric8 CRD generator makes of the io.kdiag.api.v1 model, and the base applies all of it. */
class CrdsTest {
    private static final String CRDS = "deploy/base/crds";

    @Test
    void shouldShipTheCrdsTheModelGenerates(@TempDir Path out) throws Exception {
        List<Class<? extends HasMetadata>> kinds = customResources();
        assertThat(kinds).as("custom resources of " + Abnormal.class.getPackageName()).isNotEmpty();
        new CRDGenerator().customResourceClasses(kinds).forCRDVersions("v1").inOutputDir(out.toFile()).generate();

        Map<String, Object> generated = documents(out);
        Map<String, Object> shipped = documents(Repo.path(CRDS));
        assertThat(shipped.keySet()).as("files in " + CRDS).containsExactlyInAnyOrderElementsOf(generated.keySet());
        generated.forEach((file, crd) -> assertThat(shipped.get(file))
                .as(file + " differs from what the generator makes; rebuild the schemas module").isEqualTo(crd));
    }

    @Test
    void shouldApplyEveryCrdFromTheBase() throws IOException {
        List<String> resources = new ArrayList<>();
        Kustomize.kustomization(Repo.path("deploy/base")).forEach((k, v) -> {
            if (k.equals("resources")) {
                ((List<?>) v).forEach(e -> resources.add(e.toString()));
            }
        });
        try (Stream<Path> files = Files.list(Repo.path(CRDS))) {
            assertThat(resources).containsAll(files.map(f -> "crds/" + f.getFileName()).toList());
        }
    }

    private static Map<String, Object> documents(Path dir) throws IOException {
        Map<String, Object> docs = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yml")).toList()) {
                docs.put(f.getFileName().toString(), Kustomize.load(f));
            }
        }
        return docs;
    }

    /** Every CustomResource class in the package of {@link Abnormal}, read from the schemas jar or classes folder. */
    @SuppressWarnings("unchecked")
    private static List<Class<? extends HasMetadata>> customResources() throws IOException, URISyntaxException, ClassNotFoundException {
        String pkg = Abnormal.class.getPackageName();
        URL location = Abnormal.class.getProtectionDomain().getCodeSource().getLocation();
        Path root = Path.of(location.toURI());
        List<String> names = new ArrayList<>();
        if (Files.isDirectory(root)) {
            names.addAll(classNames(root.resolve(pkg.replace('.', '/'))));
        } else {
            try (FileSystem jar = FileSystems.newFileSystem(root)) {
                names.addAll(classNames(jar.getPath(pkg.replace('.', '/'))));
            }
        }
        List<Class<? extends HasMetadata>> kinds = new ArrayList<>();
        for (String name : names) {
            Class<?> c = Class.forName(pkg + "." + name);
            if (CustomResource.class.isAssignableFrom(c)) {
                kinds.add((Class<? extends HasMetadata>) c);
            }
        }
        return kinds;
    }

    private static List<String> classNames(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(".class") && !n.contains("$") && !n.equals("package-info.class"))
                    .map(n -> n.substring(0, n.length() - ".class".length()))
                    .sorted().toList();
        }
    }
}
