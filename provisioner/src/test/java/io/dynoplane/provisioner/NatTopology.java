package io.dynoplane.provisioner;

import io.dynoplane.ffm.NetworkNamespaces;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import static io.dynoplane.provisioner.Commands.quietly;
import static io.dynoplane.provisioner.Commands.sh;

/**
 * A NAT topology built entirely in namespaces this fixture creates (the root namespace carries nothing):
 * <pre>
 *   internet ns                           host ns                                 dyno ns i
 *   203.0.113.2/24  -------------veth-------------  203.0.113.1/24 (+.10, .11: spaces)
 *   no route to 172.16/12                 uplink (tx csum off): the NAT attaches here
 *   TCP 7000, UDP 7000-7003 responders    172.16.0.(4i+1)/30  ------veth------   172.16.0.(4i+2)/30, default via .1
 * </pre>
 * The internet has no route back to the dyno range: only translated traffic can get an answer.
 *
 * <p>Checksums: a CHECKSUM_PARTIAL skb crossing veth is trusted by the receiver, so a wrong checksum would go
 * unnoticed. Hence the host's veths have transmit checksum offload off: whatever the NAT rewrote is finalized in
 * software right after it (skb_checksum_help, software GSO), as a NIC would, and the receiving stack verifies it.
 * The internet and dyno 0 send CHECKSUM_PARTIAL (and TSO) skbs into the NAT; dyno 1 has offload off and sends
 * complete software checksums (CHECKSUM_NONE).
 */
final class NatTopology implements AutoCloseable {
    static final String HOST = "203.0.113.1";
    static final String REMOTE = "203.0.113.2";
    static final List<String> SPACE_ADDRESSES = List.of("203.0.113.10", "203.0.113.11");
    static final int TCP_PORT = 7000;
    static final int UDP_PORT = 7000; // and the next 3
    static final int CLOSED_UDP_PORT = 7999;

    final String hex;
    final String internet, host, uplink;
    final List<String> dynos = new ArrayList<>();
    final List<String> dynoAddresses = new ArrayList<>();
    /** Peers the UDP responders saw, "ip:port". */
    final Queue<String> udpPeers = new ConcurrentLinkedQueue<>();
    private final List<AutoCloseable> servers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean closing;

    NatTopology(int dynoCount) {
        byte[] random = new byte[3];
        ThreadLocalRandom.current().nextBytes(random);
        hex = HexFormat.of().formatHex(random);
        internet = "dpn-" + hex + "-i";
        host = "dpn-" + hex + "-h";
        uplink = "dpn" + hex + "u";
        try {
            build(dynoCount);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    private void build(int dynoCount) {
        for (String ns : List.of(internet, host)) {
            sh("ip", "netns", "add", ns);
            sh("ip", "-n", ns, "link", "set", "lo", "up");
        }
        String outside = "dpn" + hex + "i";
        sh("ip", "link", "add", outside, "netns", internet, "type", "veth", "peer", "name", uplink, "netns", host);
        sh("ip", "-n", internet, "addr", "add", REMOTE + "/24", "dev", outside);
        sh("ip", "-n", internet, "link", "set", outside, "up");
        sh("ip", "-n", host, "addr", "add", HOST + "/24", "dev", uplink);
        for (String a : SPACE_ADDRESSES) sh("ip", "-n", host, "addr", "add", a + "/32", "dev", uplink);
        sh("ip", "-n", host, "link", "set", uplink, "up");
        txChecksum(host, uplink, false);
        sh("ip", "netns", "exec", host, "sysctl", "-qw", "net.ipv4.ip_forward=1");
        for (int i = 0; i < dynoCount; i++) {
            String ns = "dpn-" + hex + "-d" + i;
            sh("ip", "netns", "add", ns);
            dynos.add(ns);
            sh("ip", "-n", ns, "link", "set", "lo", "up");
            String hostSide = "dpn" + hex + "h" + i, dynoSide = "dpn" + hex + "d" + i;
            sh("ip", "link", "add", hostSide, "netns", host, "type", "veth", "peer", "name", dynoSide, "netns", ns);
            String gateway = "172.16.0." + (4 * i + 1), address = "172.16.0." + (4 * i + 2);
            sh("ip", "-n", host, "addr", "add", gateway + "/30", "dev", hostSide);
            sh("ip", "-n", host, "link", "set", hostSide, "up");
            txChecksum(host, hostSide, false);
            sh("ip", "-n", ns, "addr", "add", address + "/30", "dev", dynoSide);
            sh("ip", "-n", ns, "link", "set", dynoSide, "up");
            sh("ip", "-n", ns, "route", "add", "default", "via", gateway);
            if (i == 1) txChecksum(ns, dynoSide, false);
            dynoAddresses.add(address);
        }
        startResponders();
    }

    // ---- Responders in the internet namespace --------------------------------------------------------------

    /**
     * TCP 7000, one command line per connection: "peer" answers the address it sees; "sink" reads to EOF and answers
     * "peer bytes crc32"; "source N" sends N deterministic bytes (see {@link #payload}) and closes.
     * UDP 7000-7003: answer "peer payload" to each datagram.
     */
    private void startResponders() {
        ServerSocket tcp = NetworkNamespaces.inside(internet, () -> new ServerSocket(TCP_PORT, 512, java.net.InetAddress.getByName(REMOTE)));
        servers.add(tcp);
        daemon("nat-tcp-accept", () -> {
            while (!closing) {
                Socket s;
                try {
                    s = tcp.accept();
                } catch (IOException e) {
                    return;
                }
                daemon("nat-tcp-conn", () -> serve(s));
            }
        });
        for (int p = UDP_PORT; p < UDP_PORT + 4; p++) {
            int port = p;
            DatagramSocket udp = NetworkNamespaces.inside(internet, () -> new DatagramSocket(new InetSocketAddress(REMOTE, port)));
            servers.add(udp);
            daemon("nat-udp-" + port, () -> {
                byte[] buf = new byte[2048];
                while (!closing) {
                    try {
                        DatagramPacket d = new DatagramPacket(buf, buf.length);
                        udp.receive(d);
                        String peer = d.getAddress().getHostAddress() + ":" + d.getPort();
                        udpPeers.add(peer);
                        byte[] reply = (peer + " " + new String(d.getData(), 0, d.getLength(), StandardCharsets.UTF_8))
                                .getBytes(StandardCharsets.UTF_8);
                        udp.send(new DatagramPacket(reply, reply.length, d.getSocketAddress()));
                    } catch (IOException e) {
                        if (closing) return;
                    }
                }
            });
        }
    }

    private static void serve(Socket s) {
        try (s) {
            s.setSoTimeout(60_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            String peer = s.getInetAddress().getHostAddress() + ":" + s.getPort();
            String command = readLine(in);
            if (command.equals("peer")) {
                out.write((peer + "\n").getBytes(StandardCharsets.US_ASCII));
            } else if (command.equals("sink")) {
                CRC32 crc = new CRC32();
                long total = 0;
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    crc.update(buf, 0, n);
                    total += n;
                }
                out.write((peer + " " + total + " " + crc.getValue() + "\n").getBytes(StandardCharsets.US_ASCII));
            } else if (command.startsWith("source ")) {
                long n = Long.parseLong(command.substring(7));
                byte[] buf = new byte[1 << 16];
                for (long sent = 0; sent < n; ) {
                    int len = (int) Math.min(buf.length, n - sent);
                    payload(sent, buf, len);
                    out.write(buf, 0, len);
                    sent += len;
                }
            }
            out.flush();
        } catch (IOException ignored) {
            // the client went away: its test reports it
        }
    }

    /** The bytes at [offset, offset + len) of the deterministic stream "source" sends and clients check. */
    static void payload(long offset, byte[] buf, int len) {
        for (int i = 0; i < len; i++) {
            long x = offset + i;
            buf[i] = (byte) (x * 31 + (x >>> 11));
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c; (c = in.read()) >= 0 && c != '\n'; ) sb.append((char) c);
        return sb.toString();
    }

    // ---- Clients in dyno namespaces ------------------------------------------------------------------------

    /** A TCP connection from dyno i (local port 0: any) to the responder. */
    Socket connect(int dyno, int localPort) {
        return NetworkNamespaces.inside(dynos.get(dyno), () -> {
            Socket s = new Socket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(dynoAddresses.get(dyno), localPort));
            s.connect(new InetSocketAddress(REMOTE, TCP_PORT), 3_000);
            s.setSoTimeout(30_000);
            return s;
        });
    }

    /** The address the responder sees for a new TCP connection from dyno i. */
    String tcpPeer(int dyno) {
        try (Socket s = connect(dyno, 0)) {
            return command(s, "peer");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String command(Socket s, String command) throws IOException {
        s.getOutputStream().write((command + "\n").getBytes(StandardCharsets.US_ASCII));
        return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
    }

    /** A UDP socket of dyno i bound to its address (port 0: any). */
    DatagramSocket udpSocket(int dyno, int localPort) {
        return NetworkNamespaces.inside(dynos.get(dyno), () -> new DatagramSocket(new InetSocketAddress(dynoAddresses.get(dyno), localPort)));
    }

    /** One request/reply over UDP: the reply text, or null on timeout. */
    static String udpExchange(DatagramSocket socket, int remotePort, String text, int timeoutMillis) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        socket.send(new DatagramPacket(b, b.length, new InetSocketAddress(REMOTE, remotePort)));
        socket.setSoTimeout(timeoutMillis);
        byte[] buf = new byte[2048];
        DatagramPacket reply = new DatagramPacket(buf, buf.length);
        try {
            socket.receive(reply);
        } catch (java.net.SocketTimeoutException e) {
            return null;
        }
        return new String(reply.getData(), 0, reply.getLength(), StandardCharsets.UTF_8);
    }

    /** ping from dyno i: exit status 0 = every echo answered. */
    int ping(int dyno, int count) {
        try {
            Process p = new ProcessBuilder("ip", "netns", "exec", dynos.get(dyno), "ping", "-n", "-q", "-c", String.valueOf(count),
                    "-i", "0.2", "-W", "2", REMOTE).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(30, TimeUnit.SECONDS);
            System.out.println("ping from " + dynos.get(dyno) + ": " + out.strip().replace('\n', ' '));
            return p.exitValue();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Checksum error counters of a namespace (nstat -asz: absolute, history untouched). */
    static Map<String, Long> csumErrors(String ns) {
        Map<String, Long> errors = new TreeMap<>();
        for (String line : sh("ip", "netns", "exec", ns, "nstat", "-asz").split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 2 && (f[0].equals("TcpInCsumErrors") || f[0].equals("UdpInCsumErrors")
                    || f[0].equals("IcmpInCsumErrors") || f[0].equals("IpExtInCsumErrors"))) {
                errors.put(f[0], Long.parseLong(f[1]));
            }
        }
        return errors;
    }

    List<String> namespaces() {
        List<String> all = new ArrayList<>(List.of(internet, host));
        all.addAll(dynos);
        return all;
    }

    // ---- Plumbing --------------------------------------------------------------------------------------------

    /** Transmit checksum offload on or off (ETHTOOL_STXCSUM through SIOCETHTOOL; there is no ethtool binary). */
    private static void txChecksum(String ns, String ifname, boolean on) {
        String script = "import array,fcntl,socket,struct,sys\n"
                + "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                + "v=array.array('B',struct.pack('II',0x17," + (on ? 1 : 0) + "))\n"
                + "fcntl.ioctl(s,0x8946,struct.pack('16sP',sys.argv[1].encode(),v.buffer_info()[0]))\n";
        sh("ip", "netns", "exec", ns, "/usr/bin/python3", "-c", script, ifname);
    }

    private void daemon(String name, Runnable r) {
        Thread t = Thread.ofPlatform().daemon().name(name).start(r);
        synchronized (threads) { threads.add(t); }
    }

    @Override
    public void close() {
        closing = true;
        for (AutoCloseable s : servers) {
            try { s.close(); } catch (Exception ignored) { /* closing */ }
        }
        List<String> all = new ArrayList<>(dynos);
        all.add(host);
        all.add(internet);
        for (String ns : all) quietly("ip", "netns", "del", ns); // each takes its veth ends, and so the pairs
    }
}
