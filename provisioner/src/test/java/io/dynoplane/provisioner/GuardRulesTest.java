package io.dynoplane.provisioner;

import io.dynoplane.ffm.NetworkNamespaces;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import static io.dynoplane.provisioner.DynoTraffic.python;
import static io.dynoplane.provisioner.DynoTraffic.sh;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every rule of the guard with real connections between namespaces, on one set of provisioned
 * dynos: the allowed case connects, the refused case is refused, and the rule's counter moves.
 * Outbound goes to an "internet" namespace of this test's own (203.0.113.0/24 on a veth from the
 * root namespace), the only egress CIDR; nothing leaves by the host's default route.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GuardRulesTest {
    private static final int PORT = 5000, OTHER_PORT = 5001, ANY_PORT = 7777;
    private static final String INTERNET_CIDR = "203.0.113.0/24";
    private static final String INTERNET_HOST = "203.0.113.2", INTERNET_GATEWAY = "203.0.113.1";

    private final String inet = "dpt" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    private final DynoTraffic traffic = new DynoTraffic();
    private final List<Dyno> dynos = new ArrayList<>();
    private ProvisionerFixture fixture;
    private IsolationPlane isolation;
    private Provisioner provisioner;
    private Dyno web, worker, spaceWeb, spaceWorker, otherSpace, internalWeb;
    private boolean internetMade;

    @BeforeAll
    void provision() throws Exception {
        fixture = new ProvisionerFixture(24);
        isolation = IsolationPlane.open(fixture.config().bpfPins());
        provisioner = new Provisioner(fixture.config(), isolation);
        web = dyno(new DynoSpec(fixture.app, "web", 1, "exec sleep 600", fixture.release, Map.of(), PORT));
        worker = dyno(new DynoSpec(fixture.app, "worker", 1, "exec sleep 600", fixture.release, Map.of(), null));
        spaceWeb = dyno(new DynoSpec(fixture.app, "web", 2, "exec sleep 600", fixture.release, Map.of(), PORT).inSpace(7, false));
        spaceWorker = dyno(new DynoSpec(fixture.app, "worker", 2, "exec sleep 600", fixture.release, Map.of(), null).inSpace(7, false));
        otherSpace = dyno(new DynoSpec(fixture.app, "worker", 3, "exec sleep 600", fixture.release, Map.of(), null).inSpace(8, false));
        internalWeb = dyno(new DynoSpec(fixture.app, "web", 3, "exec sleep 600", fixture.release, Map.of(), PORT).inSpace(7, true));
        for (Dyno d : List.of(web, worker, spaceWeb, internalWeb)) traffic.listen(d.netns().name(), PORT, OTHER_PORT, ANY_PORT);
        traffic.listen(spaceWorker.netns().name(), ANY_PORT);

        // The test's internet: a namespace behind a veth from the root namespace, routing back to the pool via us.
        sh("ip netns add " + inet);
        internetMade = true;
        sh("ip link add " + inet + " type veth peer name eth0 netns " + inet);
        sh("ip addr add " + INTERNET_GATEWAY + "/24 dev " + inet);
        sh("ip link set " + inet + " up");
        sh("echo 1 > /proc/sys/net/ipv4/conf/" + inet + "/forwarding"); // replies are forwarded from it to the dynos
        sh("ip -n " + inet + " addr add " + INTERNET_HOST + "/24 dev eth0");
        sh("ip -n " + inet + " link set eth0 up");
        sh("ip -n " + inet + " link set lo up");
        sh("ip -n " + inet + " route add " + fixture.pool + " via " + INTERNET_GATEWAY);
        traffic.listen(inet, 8080);
    }

    @AfterAll
    void cleanUp() throws Exception {
        try {
            traffic.close();
            for (Dyno d : dynos) {
                try {
                    provisioner.teardown(d, Duration.ofSeconds(1));
                } catch (RuntimeException e) {
                    System.err.println("teardown " + d.spec().name() + ": " + e);
                }
            }
            if (internetMade) {
                sh("ip link del " + inet + " 2>/dev/null; ip netns del " + inet);
            }
        } finally {
            if (provisioner != null) provisioner.close();
            if (isolation != null) isolation.close();
            if (fixture != null) fixture.close();
        }
        assertThat(NetworkNamespaces.list()).doesNotContain(inet);
    }

    // ---- Inbound: the router ------------------------------------------------------------------------------------

    @Test
    void routerReachesAWebDynosPortOnly() throws Exception {
        long router = count(web, Verdict.PASS_ROUTER), replies = count(web, Verdict.PASS_REPLY), inbound = count(web, Verdict.DROP_INBOUND);
        assertThat(hostConnect(web, PORT)).isEqualTo("ok");
        assertThat(count(web, Verdict.PASS_ROUTER)).isEqualTo(router + 1);
        assertThat(count(web, Verdict.PASS_REPLY)).isGreaterThan(replies + 1); // SYN-ACK, data, FIN, ACKs
        assertThat(hostConnect(web, OTHER_PORT)).isEqualTo("refused");
        assertThat(count(web, Verdict.DROP_INBOUND)).isGreaterThan(inbound);
    }

    @Test
    void routerReachesNoWorkerAndNoInternalApp() throws Exception {
        long w = count(worker, Verdict.DROP_INBOUND), i = count(internalWeb, Verdict.DROP_INBOUND);
        assertThat(hostConnect(worker, PORT)).isEqualTo("refused");
        assertThat(count(worker, Verdict.DROP_INBOUND)).isGreaterThan(w);
        assertThat(hostConnect(internalWeb, PORT)).isEqualTo("refused");
        assertThat(count(internalWeb, Verdict.DROP_INBOUND)).isGreaterThan(i);
    }

    // ---- Common Runtime -----------------------------------------------------------------------------------------

    @Test
    void commonRuntimeDynosReachNoOtherDyno() throws Exception {
        long before = count(worker, Verdict.DROP_TO_DYNO);
        assertThat(tcp(worker, web.address(), PORT)).isEqualTo("refused");
        long afterTcp = count(worker, Verdict.DROP_TO_DYNO);
        assertThat(afterTcp).isGreaterThan(before);
        udp(worker, web.address(), PORT);
        assertThat(count(worker, Verdict.DROP_TO_DYNO)).isEqualTo(afterTcp + 1);
        assertThat(ping(worker, web.address())).isFalse();
        assertThat(count(worker, Verdict.DROP_TO_DYNO)).isEqualTo(afterTcp + 2);
        // Nor a space's dyno.
        assertThat(tcp(worker, spaceWeb.address(), PORT)).isEqualTo("refused");
        assertThat(count(worker, Verdict.DROP_TO_DYNO)).isGreaterThan(afterTcp + 2);
    }

    @Test
    void theHostServesNothingToDynos() throws Exception {
        String gateway = Subnet.dotted(worker.subnet().hostAddress());
        long before = count(worker, Verdict.DROP_TO_HOST);
        assertThat(tcp(worker, gateway, 22)).isEqualTo("refused");
        long afterTcp = count(worker, Verdict.DROP_TO_HOST);
        assertThat(afterTcp).isGreaterThan(before);
        assertThat(ping(worker, gateway)).isFalse();
        assertThat(count(worker, Verdict.DROP_TO_HOST)).isEqualTo(afterTcp + 1);
        // The host's address on the internet side is in the egress list, and still the host's.
        isolation.allowEgress(INTERNET_CIDR);
        assertThat(ping(worker, INTERNET_GATEWAY)).isFalse();
        assertThat(count(worker, Verdict.DROP_TO_HOST)).isEqualTo(afterTcp + 2);
    }

    @Test
    void aSpoofedSourceIsDropped() throws Exception {
        long before = count(worker, Verdict.DROP_SPOOF);
        // As root inside the dyno's namespace: a datagram from another dyno's address (IP_TRANSPARENT allows the bind).
        String code = "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.setsockopt(socket.SOL_IP,19,1)\n"
                + "s.bind(('" + web.address() + "',4000))\ns.sendto(b'x',('" + Subnet.dotted(worker.subnet().hostAddress()) + "',9))\nprint('sent')";
        assertThat(python(worker.netns().name(), code)).contains("sent");
        assertThat(count(worker, Verdict.DROP_SPOOF)).isEqualTo(before + 1);
    }

    // ---- Private spaces -----------------------------------------------------------------------------------------

    @Test
    void spaceMembersReachEachOtherOnAnyPort() throws Exception {
        long out = count(spaceWorker, Verdict.PASS_SPACE), in = count(spaceWeb, Verdict.PASS_SPACE);
        assertThat(tcp(spaceWorker, spaceWeb.address(), ANY_PORT)).isEqualTo("ok");
        assertThat(tcp(spaceWeb, spaceWorker.address(), ANY_PORT)).isEqualTo("ok");
        assertThat(ping(spaceWorker, spaceWeb.address())).isTrue();
        assertThat(count(spaceWorker, Verdict.PASS_SPACE)).isGreaterThan(out + 2);
        assertThat(count(spaceWeb, Verdict.PASS_SPACE)).isGreaterThan(in + 2);
        // An internal app's web dyno: its space, yes.
        assertThat(tcp(spaceWorker, internalWeb.address(), PORT)).isEqualTo("ok");
    }

    @Test
    void otherSpacesAndTheCommonRuntimeAreRefused() throws Exception {
        long fromOther = count(otherSpace, Verdict.DROP_TO_DYNO), fromSpace = count(spaceWorker, Verdict.DROP_TO_DYNO);
        assertThat(tcp(otherSpace, spaceWeb.address(), PORT)).isEqualTo("refused");
        assertThat(tcp(otherSpace, internalWeb.address(), PORT)).isEqualTo("refused");
        assertThat(count(otherSpace, Verdict.DROP_TO_DYNO)).isGreaterThan(fromOther + 1);
        assertThat(tcp(spaceWorker, web.address(), PORT)).isEqualTo("refused");
        assertThat(count(spaceWorker, Verdict.DROP_TO_DYNO)).isGreaterThan(fromSpace);
    }

    // ---- Egress -------------------------------------------------------------------------------------------------

    @Test
    void egressOnlyToTheListedCidrWithRepliesComingBack() throws Exception {
        isolation.denyEgress(INTERNET_CIDR);
        long denied = count(worker, Verdict.DROP_NO_EGRESS);
        assertThat(tcp(worker, INTERNET_HOST, 8080)).isEqualTo("refused");
        long afterDenied = count(worker, Verdict.DROP_NO_EGRESS);
        assertThat(afterDenied).isGreaterThan(denied);

        isolation.allowEgress(INTERNET_CIDR);
        long egress = count(worker, Verdict.PASS_EGRESS), replies = count(worker, Verdict.PASS_REPLY);
        assertThat(tcp(worker, INTERNET_HOST, 8080)).isEqualTo("ok");
        assertThat(ping(worker, INTERNET_HOST)).isTrue();
        assertThat(count(worker, Verdict.PASS_EGRESS)).isGreaterThan(egress + 2);
        assertThat(count(worker, Verdict.PASS_REPLY)).isGreaterThan(replies + 1);

        // Not in the list: dropped at the dyno's veth, never routed (one datagram, one count).
        udp(worker, "198.51.100.7", 53);
        assertThat(count(worker, Verdict.DROP_NO_EGRESS)).isEqualTo(afterDenied + 1);
        // The internet cannot open connections to a dyno.
        long inbound = count(web, Verdict.DROP_INBOUND);
        String code = "import socket\ntry:\n socket.create_connection(('" + web.address() + "'," + PORT + "),timeout=1); print('ok')\nexcept OSError as e:\n print('refused')";
        assertThat(python(inet, code)).contains("refused");
        assertThat(count(web, Verdict.DROP_INBOUND)).isGreaterThan(inbound);
    }

    // ---- Helpers ------------------------------------------------------------------------------------------------

    private Dyno dyno(DynoSpec spec) {
        Dyno d = provisioner.provision(spec, line -> {});
        dynos.add(d);
        return d;
    }

    private long count(Dyno d, Verdict v) { return isolation.count(d.id(), v); }

    private static String hostConnect(Dyno d, int port) throws IOException { return DynoTraffic.hostConnect(d.address(), port); }

    private static String tcp(Dyno from, String address, int port) throws Exception { return DynoTraffic.tcp(from.netns().name(), address, port); }

    private static void udp(Dyno from, String address, int port) throws Exception { DynoTraffic.udp(from.netns().name(), address, port); }

    private static boolean ping(Dyno from, String address) throws Exception { return DynoTraffic.ping(from.netns().name(), address); }
}
