package io.dynoplane.bench;

/**
 * What one load generator run saw: requests/s, latency percentiles in microseconds, requests answered, errors and
 * bytes received per request, over the {@code seconds} measured; and the requests answered and seconds taken with
 * any unmeasured warm-up included ({@code allRequests}, {@code allSeconds}), which the target's CPU and dyno
 * connections were counted over.
 */
record LoadResult(double rps, double p50, double p99, double p999, double max, long requests, long errors, double bytesPerRequest, double seconds,
                  long allRequests, double allSeconds) {
    /** A run that got no answer: NaN sorts above every number, so it counts as the worst in a median. */
    static LoadResult unanswered(long errors, double seconds) {
        return new LoadResult(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, errors, Double.NaN, seconds, 0, seconds);
    }
}
