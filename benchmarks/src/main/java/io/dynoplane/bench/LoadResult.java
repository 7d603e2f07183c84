package io.dynoplane.bench;

/**
 * What one load generator run saw: requests/s, latency percentiles in microseconds, requests answered, errors,
 * bytes received per request, and how long it ran.
 */
record LoadResult(double rps, double p50, double p99, double p999, double max, long requests, long errors, double bytesPerRequest, double seconds) {
    /** A run that got no answer: NaN sorts above every number, so it counts as the worst in a median. */
    static LoadResult unanswered(long errors, double seconds) {
        return new LoadResult(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, errors, Double.NaN, seconds);
    }
}
