package io.dynoplane.router;

import org.HdrHistogram.Histogram;

/**
 * Latency of proxied requests since the router started, in microseconds. Both histograms are
 * private copies.
 *
 * @param total       from the request head's arrival to the response being written to the client
 * @param routerAdded {@code total} minus the dyno's service time: connection set-up or pooling,
 *                    header rewriting, queuing on the event loop and writing back
 */
public record LatencySnapshot(Histogram total, Histogram routerAdded) {
}
