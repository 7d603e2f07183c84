/**
 * The dynoplane HTTP router: Netty 4.2 on io_uring (epoll where io_uring is missing), routing by Host
 * to an app's up web dynos with Heroku's router semantics.
 *
 * <p>Public API: {@link io.dynoplane.router.Router}, {@link io.dynoplane.router.RouterConfig},
 * {@link io.dynoplane.router.RouteTable}, {@link io.dynoplane.router.AppRoute},
 * {@link io.dynoplane.router.Backend}, {@link io.dynoplane.router.LatencySnapshot}. Everything else
 * is package-private plumbing, one job per class.
 *
 * <p>Bodies stream both ways with back-pressure (nothing is aggregated, there is no size cap): see
 * {@code RequestRouter}, {@code ProxyExchange} and {@code BackendConnection}.
 */
package io.dynoplane.router;
