package io.dynoplane.provisioner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs iproute2's {@code ip} for the wiring the skeleton does not yet do over rtnetlink
 * (issue 3 replaces this with the FFM netlink binding). Every failure names the command and
 * carries what {@code ip} printed.
 */
final class IpCommand {
    private IpCommand() {}

    static String run(String... args) {
        List<String> command = new ArrayList<>(args.length + 1);
        command.add("ip");
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            int exit = process.waitFor();
            if (exit != 0) throw new ProvisioningException(String.join(" ", command) + " failed (exit " + exit + "): " + output);
            return output;
        } catch (IOException e) {
            throw new ProvisioningException("cannot run " + String.join(" ", command) + ": " + e.getMessage()
                    + " (is iproute2 installed?)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProvisioningException("interrupted while running " + String.join(" ", command), e);
        }
    }

    /** Like {@link #run} but for teardown: a missing object is already the goal, so failures are returned, not thrown. */
    static String runQuietly(String... args) {
        try {
            run(args);
            return null;
        } catch (ProvisioningException e) {
            return e.getMessage();
        }
    }
}
