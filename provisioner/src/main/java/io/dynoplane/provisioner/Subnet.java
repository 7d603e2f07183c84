package io.dynoplane.provisioner;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** One dyno's /30: network {@code .0}, host side {@code .1}, dyno side {@code .2}, broadcast {@code .3}. */
public record Subnet(int network) {
    public Subnet {
        if ((network & 3) != 0) throw new IllegalArgumentException("not a /30 network: " + dotted(network));
    }

    public int hostAddress() { return network + 1; }
    public int dynoAddress() { return network + 2; }

    /** A dyno id that is stable for as long as the /30 is leased, and never 0 (id 0 counts unguarded interfaces). */
    public int dynoId() { return network >>> 2; }

    /** The dyno side's eth0 MAC, derived from its address: locally administered {@code 02:00} + the four address bytes. */
    public byte[] dynoMac() {
        int a = dynoAddress();
        return new byte[] {2, 0, (byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a};
    }

    public String hostCidr() { return dotted(hostAddress()) + "/30"; }
    public String dynoCidr() { return dotted(dynoAddress()) + "/30"; }

    public InetAddress dynoInet() { return inet(dynoAddress()); }
    public InetAddress hostInet() { return inet(hostAddress()); }

    @Override public String toString() { return dotted(network) + "/30"; }

    public static String dotted(int address) {
        return (address >>> 24) + "." + ((address >>> 16) & 0xff) + "." + ((address >>> 8) & 0xff) + "." + (address & 0xff);
    }

    /** Parses a dotted quad; fails naming the input. */
    public static int parse(String dotted) {
        String[] parts = dotted.split("\\.", -1);
        if (parts.length != 4) throw new IllegalArgumentException("not an IPv4 address: '" + dotted + "'");
        int address = 0;
        for (String part : parts) {
            int octet;
            try { octet = Integer.parseInt(part); } catch (NumberFormatException e) { octet = -1; }
            if (octet < 0 || octet > 255) throw new IllegalArgumentException("not an IPv4 address: '" + dotted + "'");
            address = (address << 8) | octet;
        }
        return address;
    }

    static InetAddress inet(int address) {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address});
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // four bytes are always a valid address
        }
    }
}
