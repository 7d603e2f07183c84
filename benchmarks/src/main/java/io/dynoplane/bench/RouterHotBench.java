package io.dynoplane.bench;

import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ./dynoplane bench router-hot [--quick]}: the JMH benchmarks in
 * {@code io.dynoplane.router.RouterHotPathsBench} with JMH's GC profiler, then a table and one JSON
 * line for each benchmark: {@code NAME_ns} (JMH's score, the mean over the measurement iterations),
 * {@code NAME_ns_err} (its 99.9% error), {@code NAME_ns_min} (the fastest iteration: on a shared, noisy
 * machine the least disturbed estimate) and {@code NAME_b_per_op} (bytes allocated per operation,
 * {@code gc.alloc.rate.norm}; unlike the times, it does not depend on what else the machine runs, but
 * escape analysis can differ between runs, so it may move by a few allocations).
 * The forked JVM gets the launcher's JVM flags (ZGC, as the plane runs the router).
 */
final class RouterHotBench {
    /** JMH method name → JSON key prefix, in report order. */
    private static final Map<String, String> KEYS = new LinkedHashMap<>();

    static {
        KEYS.put("forwardHeaders", "forward_headers");
        KEYS.put("forwardHeadersCopyOnly", "forward_headers_copy_only");
        KEYS.put("requestHeadDecoded", "request_head_decoded");
        KEYS.put("requestHeadPassedThrough", "request_head_passed_through");
        KEYS.put("responseHeadDecoded", "response_head_decoded");
        KEYS.put("responseHeadPassedThrough", "response_head_passed_through");
        KEYS.put("requestIdValid", "request_id_valid");
        KEYS.put("requestIdInvalid", "request_id_invalid");
        KEYS.put("selectDyno2", "select_dyno_2");
        KEYS.put("selectDyno100", "select_dyno_100");
        KEYS.put("hostLookup10k", "host_lookup_10k");
    }

    private RouterHotBench() {}

    static void run(Deque<String> args) throws Exception {
        boolean quick = false;
        while (!args.isEmpty()) {
            String arg = args.pop();
            if (arg.equals("--quick")) {
                quick = true;
            } else {
                throw new IllegalArgumentException("router-hot: unknown option '" + arg + "' (known: --quick)");
            }
        }
        int warmups = quick ? 2 : 3;
        int iterations = quick ? 3 : 5;
        TimeValue time = TimeValue.seconds(quick ? 1 : 2);
        Options options = new OptionsBuilder()
                .include("io\\.dynoplane\\.router\\.RouterHotPathsBench\\.")
                .forks(1)
                .warmupIterations(warmups).warmupTime(time)
                .measurementIterations(iterations).measurementTime(time)
                .addProfiler(GCProfiler.class)
                .build();
        Collection<RunResult> results = new Runner(options).run();

        Map<String, RunResult> byMethod = new LinkedHashMap<>();
        for (RunResult result : results) {
            String label = result.getParams().getBenchmark();
            byMethod.put(label.substring(label.lastIndexOf('.') + 1), result);
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "%-24s %10s %10s %10s %8s%n", "benchmark", "ns/op", "± (99.9%)", "min ns/op", "B/op");
        StringBuilder json = new StringBuilder("{\"bench\":\"router-hot\",\"quick\":").append(quick)
                .append(",\"forks\":1,\"warmup\":\"").append(warmups).append('x').append(time)
                .append("\",\"measure\":\"").append(iterations).append('x').append(time).append('"');
        for (Map.Entry<String, String> key : KEYS.entrySet()) {
            RunResult result = byMethod.get(key.getKey());
            Double ns = null;
            Double error = null;
            Double bytes = null;
            Double min = null;
            if (result != null) {
                Result<?> primary = result.getPrimaryResult();
                ns = primary.getScore();
                error = primary.getScoreError();
                bytes = allocNorm(result);
                min = primary.getStatistics().getMin();
            }
            System.out.printf(Locale.ROOT, "%-24s %10s %10s %10s %8s%n", key.getKey(),
                    fmt(ns, 1), fmt(error, 1), fmt(min, 1), fmt(bytes, 0));
            json.append(",\"").append(key.getValue()).append("_ns\":").append(fmt(ns, 1))
                    .append(",\"").append(key.getValue()).append("_ns_err\":").append(fmt(error, 1))
                    .append(",\"").append(key.getValue()).append("_ns_min\":").append(fmt(min, 1))
                    .append(",\"").append(key.getValue()).append("_b_per_op\":").append(fmt(bytes, 0));
        }
        System.out.println(json.append('}'));
    }

    /** The GC profiler's bytes per operation; its label is "gc.alloc.rate.norm" (older JMH: "·gc..."). */
    private static Double allocNorm(RunResult result) {
        for (Map.Entry<String, Result> secondary : result.getSecondaryResults().entrySet()) {
            if (secondary.getKey().endsWith("gc.alloc.rate.norm")) {
                return secondary.getValue().getScore();
            }
        }
        return null;
    }

    private static String fmt(Double value, int decimals) {
        if (value == null || value.isNaN()) {
            return "null";
        }
        return String.format(Locale.ROOT, "%." + decimals + "f", value);
    }
}
