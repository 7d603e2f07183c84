package io.dynoplane.router;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * One web dyno the router may forward to.
 *
 * @param dyno    the dyno's name as it appears in router logs, e.g. {@code web.1}
 * @param address where the dyno listens. An unresolved IP literal (e.g. from
 *                {@code InetSocketAddress.createUnresolved("172.16.0.2", 5000)}) is turned into a resolved
 *                address here, without DNS; an unresolved host name is refused, because resolving it later
 *                would block an event loop.
 * @param state   whether the dyno can take requests ({@link State#UP}), is still booting, or has crashed
 */
public record Backend(String dyno, InetSocketAddress address, State state) {
    /** Where a web dyno is in its life, as far as routing cares. */
    public enum State {
        /** Serving: requests go to it. */
        UP,
        /** Booting: requests for an app with no dyno up queue (up to the boot wait, then H20). */
        STARTING,
        /** Crashed: an app whose dynos have all crashed gets H10. */
        CRASHED
    }

    /** An {@link State#UP up} dyno. */
    public Backend(String dyno, InetSocketAddress address) {
        this(dyno, address, State.UP);
    }

    public Backend {
        Objects.requireNonNull(dyno, "dyno");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(state, "state");
        if (address.isUnresolved()) {
            address = new InetSocketAddress(literal(address), address.getPort());
        }
    }

    private static InetAddress literal(InetSocketAddress unresolved) {
        try {
            return InetAddress.ofLiteral(unresolved.getHostString());
        } catch (IllegalArgumentException notALiteral) {
            throw new IllegalArgumentException("backend address must be resolved or an IP literal: " + unresolved);
        }
    }
}
