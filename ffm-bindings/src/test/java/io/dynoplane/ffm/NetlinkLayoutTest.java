package io.dynoplane.ffm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.StructLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The netlink struct layouts and the constants of NetlinkStructs and Syscalls against what gcc makes of the kernel's
 * UAPI headers and glibc's: sizeof, offsetof/sizeof of every named field, and the value of every constant, which is
 * named as its C macro. (NetlinkStructs' long fields are field offsets, checked through the structs.)
 */
class NetlinkLayoutTest {
    private static final String HEADERS = """
            #define _GNU_SOURCE
            #include <stddef.h>
            #include <stdio.h>
            #include <errno.h>
            #include <fcntl.h>
            #include <sched.h>
            #include <sys/file.h>
            #include <sys/mount.h>
            #include <sys/socket.h>
            #include <linux/if.h>
            #include <linux/netlink.h>
            #include <linux/rtnetlink.h>
            #include <linux/if_link.h>
            #include <linux/if_addr.h>
            #include <linux/veth.h>
            """;

    @Test
    void layoutsAndConstantsMatchTheHeaders(@TempDir Path dir) throws IOException, IllegalAccessException {
        Map<String, Long> javaView = new LinkedHashMap<>();
        StringBuilder c = new StringBuilder(HEADERS).append("int main(void) {\n");
        for (StructLayout struct : NetlinkStructs.ALL) {
            String name = struct.name().orElseThrow();
            javaView.put(name + " sizeof", struct.byteSize());
            c.append("  printf(\"%s %zu\\n\", \"").append(name).append(" sizeof\", sizeof(struct ").append(name).append("));\n");
            long offset = 0;
            for (MemoryLayout member : struct.memberLayouts()) {
                if (!(member instanceof PaddingLayout)) {
                    String field = member.name().orElseThrow();
                    javaView.put(name + "." + field + " offsetof", offset);
                    javaView.put(name + "." + field + " sizeof", member.byteSize());
                    c.append("  printf(\"%s %zu\\n\", \"").append(name).append('.').append(field)
                            .append(" offsetof\", offsetof(struct ").append(name).append(", ").append(field).append("));\n");
                    c.append("  printf(\"%s %zu\\n\", \"").append(name).append('.').append(field)
                            .append(" sizeof\", sizeof(((struct ").append(name).append(" *)0)->").append(field).append("));\n");
                }
                offset += member.byteSize();
            }
        }
        addConstants(NetlinkStructs.class, false, javaView, c);
        addConstants(Syscalls.class, true, javaView, c);
        c.append("  return 0;\n}\n");

        Path source = Files.writeString(dir.resolve("netlink_sizes.c"), c);
        Path binary = dir.resolve("netlink_sizes");
        Shell.run("gcc", "-Wall", "-Werror", "-o", binary.toString(), source.toString());
        Map<String, Long> cView = new LinkedHashMap<>();
        Shell.run(binary.toString()).lines().forEach(line -> {
            int lastSpace = line.lastIndexOf(' ');
            cView.put(line.substring(0, lastSpace), Long.parseLong(line.substring(lastSpace + 1)));
        });

        assertThat(javaView).isEqualTo(cView);
        assertThat(cView).containsEntry("nlmsghdr sizeof", 16L)
                .containsEntry("ifinfomsg sizeof", 16L)
                .containsEntry("ifaddrmsg sizeof", 8L)
                .containsEntry("rtmsg sizeof", 12L)
                .containsEntry("nlmsgerr sizeof", 20L)
                .containsEntry("rtattr sizeof", 4L)
                .containsEntry("sockaddr_nl sizeof", 12L);
    }

    // Every static final int (and, if withLongs, long) field: the C expression of the same name, printed as long long.
    private static void addConstants(Class<?> holder, boolean withLongs, Map<String, Long> javaView, StringBuilder c)
            throws IllegalAccessException {
        for (Field field : holder.getDeclaredFields()) {
            int modifiers = field.getModifiers();
            boolean constant = Modifier.isStatic(modifiers) && Modifier.isFinal(modifiers)
                    && (field.getType() == int.class || (withLongs && field.getType() == long.class));
            if (!constant) continue;
            field.setAccessible(true);
            String name = field.getName();
            javaView.put(name, ((Number) field.get(null)).longValue());
            c.append("  printf(\"%s %lld\\n\", \"").append(name).append("\", (long long) (").append(name).append("));\n");
        }
    }
}
