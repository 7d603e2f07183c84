package io.dynoplane.plane;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/grafana-dashboard.json is a Grafana dashboard on a Prometheus datasource variable, and every metric its queries
 * name is one the code exports, so a renamed metric cannot leave the dashboard silently empty.
 */
class GrafanaDashboardTest {
    private static final Path DASHBOARD = Path.of("..", "docs", "grafana-dashboard.json");
    private static final List<Path> SOURCES = List.of(Path.of("src/main/java"), Path.of("../router/src/main/java"), Path.of("../provisioner/src/main/java"));

    /**
     * The names a scrape shows (a counter built as {@code x} is exposed as {@code x_total}; a summary {@code x} also as
     * {@code x_sum} and {@code x_count}), each with the name literal that must be in the main sources for it.
     */
    private static final Map<String, String> EXPORTED = Map.ofEntries(
            Map.entry("dynoplane_router_requests_total", "dynoplane_router_requests_total"),
            Map.entry("dynoplane_router_head_timeouts_total", "dynoplane_router_head_timeouts_total"),
            Map.entry("dynoplane_router_latency_seconds", "dynoplane_router_latency_seconds"),
            Map.entry("dynoplane_router_latency_seconds_sum", "dynoplane_router_latency_seconds"),
            Map.entry("dynoplane_router_latency_seconds_count", "dynoplane_router_latency_seconds"),
            Map.entry("dynoplane_router_client_connections", "dynoplane_router_client_connections"),
            Map.entry("dynoplane_router_pool_connections", "dynoplane_router_pool_connections"),
            Map.entry("dynoplane_router_in_flight", "dynoplane_router_in_flight"),
            Map.entry("dynoplane_isolation_packets_total", "dynoplane_isolation_packets"),
            Map.entry("dynoplane_edge_packets_total", "dynoplane_edge_packets"),
            Map.entry("dynoplane_nat_flows", "dynoplane_nat_flows"),
            Map.entry("dynoplane_nat_events_total", "dynoplane_nat_events"),
            Map.entry("dynoplane_log_lines_dropped_total", "dynoplane_log_lines_dropped"),
            Map.entry("dynoplane_dyno_memory_bytes", "dynoplane_dyno_memory_bytes"),
            Map.entry("dynoplane_dyno_listen_queue", "dynoplane_dyno_listen_queue"),
            Map.entry("dynoplane_dyno_listen_backlog", "dynoplane_dyno_listen_backlog"),
            Map.entry("dynoplane_dynos", "dynoplane_dynos"),
            Map.entry("dynoplane_dyno_restarts_total", "dynoplane_dyno_restarts"),
            Map.entry("dynoplane_dyno_boot_seconds_sum", "dynoplane_dyno_boot_seconds"),
            Map.entry("dynoplane_dyno_boot_seconds_count", "dynoplane_dyno_boot_seconds"));

    private static final Pattern METRIC = Pattern.compile("\\bdynoplane_[a-z0-9_]+\\b");

    @Test
    void isAGrafanaDashboardOnAPrometheusDatasourceVariable() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
        assertThat(dashboard.path("title").asText()).isNotBlank();
        assertThat(dashboard.path("uid").asText()).isNotBlank();
        assertThat(dashboard.path("schemaVersion").asInt()).isPositive();
        JsonNode variables = dashboard.path("templating").path("list");
        assertThat(variables).anySatisfy(v -> {
            assertThat(v.path("type").asText()).isEqualTo("datasource");
            assertThat(v.path("query").asText()).isEqualTo("prometheus");
            assertThat(v.path("name").asText()).isEqualTo("datasource");
        });

        Set<Integer> ids = new HashSet<>();
        List<String> titles = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            assertThat(ids.add(panel.path("id").asInt())).as("panel id %s is unique", panel.path("id")).isTrue();
            JsonNode grid = panel.path("gridPos");
            assertThat(grid.path("x").asInt() + grid.path("w").asInt()).as(panel.path("title").asText()).isBetween(1, 24);
            if (panel.path("type").asText().equals("row")) {
                titles.add(panel.path("title").asText());
                continue;
            }
            assertThat(panel.path("datasource").path("uid").asText()).as(panel.path("title").asText()).isEqualTo("${datasource}");
            assertThat(panel.path("targets")).as(panel.path("title").asText()).isNotEmpty()
                    .allSatisfy(t -> assertThat(t.path("expr").asText()).isNotBlank());
        }
        assertThat(titles).containsExactly("Router", "Isolation", "NAT", "Dynos");
    }

    @Test
    void everyMetricItQueriesIsExported() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
        List<String> queries = new ArrayList<>();
        collectQueries(dashboard, queries);
        assertThat(queries).hasSizeGreaterThan(20);

        Set<String> referenced = new TreeSet<>();
        for (String query : queries) {
            Matcher m = METRIC.matcher(query);
            while (m.find()) referenced.add(m.group());
        }
        assertThat(referenced).as("metrics in the dashboard's queries").allSatisfy(name ->
                assertThat(EXPORTED).as("%s is not a name the code exports (EXPORTED)", name).containsKey(name));
        // and the dashboard shows every metric we export
        assertThat(referenced).containsAll(EXPORTED.keySet());
    }

    @Test
    void theListOfExportedNamesMatchesTheSources() {
        String sources = mainSources();
        assertThat(EXPORTED.values()).allSatisfy(literal ->
                assertThat(sources).as("the main sources name %s", literal).contains("\"" + literal + "\""));
    }

    /** Every "expr" of a target and every "definition"/"query" string of a query variable, anywhere in the tree. */
    private static void collectQueries(JsonNode node, List<String> out) {
        if (node.isObject()) {
            node.properties().forEach(e -> {
                if ((e.getKey().equals("expr") || e.getKey().equals("definition")) && e.getValue().isTextual()) out.add(e.getValue().asText());
                else collectQueries(e.getValue(), out);
            });
        } else if (node.isArray()) {
            node.forEach(n -> collectQueries(n, out));
        }
    }

    private static String mainSources() {
        StringBuilder all = new StringBuilder();
        for (Path root : SOURCES) {
            try (Stream<Path> files = Files.walk(root)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) all.append(Files.readString(file));
            } catch (IOException e) {
                throw new UncheckedIOException("reading " + root.toAbsolutePath(), e);
            }
        }
        return all.toString();
    }
}
