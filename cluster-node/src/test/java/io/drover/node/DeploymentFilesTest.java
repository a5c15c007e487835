package io.drover.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.ByteArrayInputStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * No Docker engine or Kubernetes runs here, so the deployment files are checked as files: the Kubernetes YAML
 * parses into typed objects with no unknown field anywhere, the compose file is valid for docker-compose (when
 * installed; CI installs it), every {@code DROVER_*} variable they set is one the node reads, and every port
 * they name is the node's configured port.
 */
class DeploymentFilesTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Config NODE = Main.config("node", ConfigFactory.empty());
    private static final Map<String, Integer> PORTS = Map.of(
            "http", NODE.getInt("drover.http.port"),
            "mqtt", NODE.getInt("drover.mqtt.embedded.port"),
            "remoting", NODE.getInt("pekko.remote.artery.canonical.port"),
            "management", NODE.getInt("pekko.management.http.port"));

    /** Every DROVER_* name that the node's config, logback, launcher script or code reads. */
    private static Set<String> variablesTheNodeReads() throws Exception {
        Set<String> names = new TreeSet<>();
        Pattern p = Pattern.compile("DROVER_[A-Z0-9_]+");
        try (Stream<Path> files = Files.walk(ROOT)) {
            for (Path f : files.filter(Files::isRegularFile).filter(DeploymentFilesTest::isNodeSource).toList()) {
                Matcher m = p.matcher(Files.readString(f));
                while (m.find()) {
                    names.add(m.group());
                }
            }
        }
        return names;
    }

    private static boolean isNodeSource(Path f) {
        String s = ROOT.relativize(f).toString();
        if (s.startsWith("docker/") || s.contains("/target/") || s.contains("/src/test/") || s.startsWith("load-tests/")) {
            return false;
        }
        return s.equals("drover") || (s.contains("/src/main/") && (s.endsWith(".conf") || s.endsWith(".xml") || s.endsWith(".java")));
    }

    @Test
    void kubernetesManifestsAreTypedAndMatchTheNode() throws Exception {
        String text = Files.readString(ROOT.resolve("docker/k8s/drover.yaml"));
        KubernetesSerialization k8s = new KubernetesSerialization();
        List<HasMetadata> objects = new ArrayList<>();
        for (String doc : text.split("(?m)^---\\s*$")) {
            if (doc.lines().anyMatch(l -> l.startsWith("kind:"))) {
                objects.add(k8s.unmarshal(new ByteArrayInputStream(doc.getBytes(StandardCharsets.UTF_8))));
            }
        }
        for (HasMetadata o : objects) {
            List<String> unknown = new ArrayList<>();
            unknownFields(o, o.getKind() + "/" + o.getMetadata().getName(), unknown);
            assertTrue(unknown.isEmpty(), "fields Kubernetes does not know: " + unknown);
        }
        Set<String> kinds = new TreeSet<>();
        objects.forEach(o -> kinds.add(o.getKind()));
        assertEquals(Set.of("ConfigMap", "PodDisruptionBudget", "Role", "RoleBinding", "Service", "ServiceAccount",
                "StatefulSet"), kinds);

        StatefulSet sts = (StatefulSet) objects.stream().filter(o -> o instanceof StatefulSet).findFirst().orElseThrow();
        Container c = sts.getSpec().getTemplate().getSpec().getContainers().get(0);
        Map<String, Integer> ports = new HashMap<>();
        for (ContainerPort p : c.getPorts()) {
            ports.put(p.getName(), p.getContainerPort());
        }
        assertEquals(PORTS, ports, "container ports are the node's ports");
        String ready = "/" + NODE.getString("pekko.management.health-checks.readiness-path");
        assertEquals(ready, c.getReadinessProbe().getHttpGet().getPath());
        assertEquals("management", c.getReadinessProbe().getHttpGet().getPort().getStrVal());
        assertEquals("/" + NODE.getString("pekko.management.health-checks.liveness-path"), c.getLivenessProbe().getHttpGet().getPath());
        assertEquals(NODE.getString("pekko.discovery.kubernetes-api.pod-label-selector").replace("%s", "drover"),
                "app=" + sts.getSpec().getTemplate().getMetadata().getLabels().get("app"), "bootstrap finds the pods by label");
        assertTrue(sts.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds() >= 60,
                "grace period above the coordinated shutdown and the preStop pause");

        Set<String> set = new TreeSet<>();
        c.getEnv().stream().map(EnvVar::getName).forEach(set::add);
        objects.stream().filter(o -> o instanceof ConfigMap).forEach(o -> set.addAll(((ConfigMap) o).getData().keySet()));
        set.removeIf(n -> !n.startsWith("DROVER_"));
        Set<String> known = variablesTheNodeReads();
        assertTrue(known.containsAll(set), "variables the node does not read: " + minus(set, known));
        for (HasMetadata o : objects) {
            if (o instanceof Service s) {
                s.getSpec().getPorts().forEach(p -> assertTrue(ports.containsKey(p.getTargetPort().getStrVal()),
                        s.getMetadata().getName() + " targets a port the pod has"));
            }
        }
    }

    @Test
    void composeFileMatchesTheNode() throws Exception {
        Map<String, Object> compose = new Yaml().load(Files.readString(ROOT.resolve("docker/compose.yaml")));
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> services = (Map<String, Map<String, Object>>) compose.get("services");
        Set<String> known = variablesTheNodeReads();
        int drovers = 0;
        for (var e : services.entrySet()) {
            if (!e.getKey().startsWith("drover-")) {
                continue;
            }
            drovers++;
            @SuppressWarnings("unchecked")
            Map<String, Object> env = (Map<String, Object>) e.getValue().get("environment");
            Set<String> set = new TreeSet<>(env.keySet());
            set.removeIf(n -> !n.startsWith("DROVER_"));
            assertTrue(known.containsAll(set), e.getKey() + " sets variables the node does not read: " + minus(set, known));
            for (String endpoint : env.get("DROVER_BOOTSTRAP_ENDPOINTS").toString().split(",")) {
                assertEquals(PORTS.get("management"), Integer.parseInt(endpoint.substring(endpoint.indexOf(':') + 1)));
            }
            @SuppressWarnings("unchecked")
            List<String> published = (List<String>) e.getValue().get("ports");
            Set<Integer> inside = new TreeSet<>();
            published.forEach(p -> inside.add(Integer.parseInt(p.substring(p.lastIndexOf(':') + 1))));
            assertEquals(new TreeSet<>(List.of(PORTS.get("http"), PORTS.get("mqtt"), PORTS.get("management"))), inside,
                    e.getKey() + " publishes the node's ports");
        }
        assertEquals(3, drovers);
        String prometheus = Files.readString(ROOT.resolve("docker/prometheus.yml"));
        assertTrue(prometheus.contains("drover-1:" + PORTS.get("http")), "Prometheus scrapes the HTTP port");
    }

    @Test
    void dockerComposeAcceptsTheComposeFile() throws Exception {
        boolean installed = Stream.of(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, "docker-compose")));
        Assumptions.assumeTrue(installed, "docker-compose is not installed (CI installs it: .ci/run)");
        Process p = new ProcessBuilder("docker-compose", "-f", ROOT.resolve("docker/compose.yaml").toString(), "config", "-q")
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
    }

    private static Set<String> minus(Set<String> a, Set<String> b) {
        Set<String> out = new TreeSet<>(a);
        out.removeAll(b);
        return out;
    }

    /** Walks a fabric8 model object; every non-empty additionalProperties is a field the API does not know. */
    private static void unknownFields(Object o, String path, List<String> out) throws Exception {
        if (o == null) {
            return;
        }
        if (o instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                unknownFields(l.get(i), path + "[" + i + "]", out);
            }
            return;
        }
        if (o instanceof Map<?, ?> m) {
            for (var e : m.entrySet()) {
                unknownFields(e.getValue(), path + "." + e.getKey(), out);
            }
            return;
        }
        if (!o.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method g : o.getClass().getMethods()) {
            if (g.getParameterCount() != 0 || !g.getName().startsWith("get") || g.getDeclaringClass() == Object.class) {
                continue;
            }
            Object v = g.invoke(o);
            if (g.getName().equals("getAdditionalProperties")) {
                if (v instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    out.add(path + ": " + extra.keySet());
                }
            } else {
                unknownFields(v, path + "." + g.getName().substring(3), out);
            }
        }
    }
}
