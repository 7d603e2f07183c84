package io.dynoplane.router;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;

/**
 * The client networks a private space admits (its trusted IP ranges); {@link #ANY} admits every client.
 * IPv4 CIDRs only, as the spaces' rules are; an IPv6 client (or an IPv4-mapped one's v6 form) is refused
 * by a non-empty list.
 */
public final class TrustedSources {
    public static final TrustedSources ANY = new TrustedSources(List.of(), new int[0], new int[0]);

    private final List<String> cidrs;
    private final int[] networks;
    private final int[] masks;

    private TrustedSources(List<String> cidrs, int[] networks, int[] masks) {
        this.cidrs = cidrs;
        this.networks = networks;
        this.masks = masks;
    }

    /** {@code cidrs} like {@code 203.0.113.0/24}; empty: {@link #ANY}. A malformed one is an error naming it. */
    public static TrustedSources of(List<String> cidrs) {
        if (cidrs.isEmpty()) return ANY;
        int[] networks = new int[cidrs.size()];
        int[] masks = new int[cidrs.size()];
        for (int i = 0; i < cidrs.size(); i++) {
            String cidr = cidrs.get(i);
            String[] parts = cidr.split("/", -1);
            try {
                if (parts.length != 2 || !parts[0].matches("\\d{1,3}(\\.\\d{1,3}){3}")) throw new IllegalArgumentException();
                int prefix = Integer.parseInt(parts[1]);
                if (prefix < 0 || prefix > 32) throw new IllegalArgumentException();
                masks[i] = prefix == 0 ? 0 : -1 << (32 - prefix);
                networks[i] = toInt(InetAddress.getByName(parts[0])) & masks[i];
            } catch (IllegalArgumentException | java.net.UnknownHostException e) {
                throw new IllegalArgumentException("trusted source '" + cidr + "' is not an IPv4 CIDR like 203.0.113.0/24");
            }
        }
        return new TrustedSources(List.copyOf(cidrs), networks, masks);
    }

    public List<String> cidrs() { return cidrs; }

    public boolean admits(InetAddress client) {
        if (networks.length == 0) return true;
        if (!(client instanceof Inet4Address)) return false;
        int address = toInt(client);
        for (int i = 0; i < networks.length; i++) {
            if ((address & masks[i]) == networks[i]) return true;
        }
        return false;
    }

    private static int toInt(InetAddress address) {
        byte[] b = address.getAddress();
        if (b.length != 4) throw new IllegalArgumentException("not IPv4: " + address.getHostAddress());
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }

    @Override
    public boolean equals(Object o) { return o instanceof TrustedSources t && t.cidrs.equals(cidrs); }

    @Override
    public int hashCode() { return cidrs.hashCode(); }

    @Override
    public String toString() { return networks.length == 0 ? "any" : String.join(",", cidrs); }
}
