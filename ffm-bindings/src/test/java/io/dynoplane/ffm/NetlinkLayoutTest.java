package io.dynoplane.ffm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
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
        CLayouts layouts = new CLayouts().structs(NetlinkStructs.ALL);
        addConstants(NetlinkStructs.class, false, layouts);
        addConstants(Syscalls.class, true, layouts);
        Map<String, Long> cView = layouts.cView(dir, HEADERS);

        assertThat(layouts.javaView).isEqualTo(cView);
        assertThat(cView).containsEntry("nlmsghdr sizeof", 16L)
                .containsEntry("ifinfomsg sizeof", 16L)
                .containsEntry("ifaddrmsg sizeof", 8L)
                .containsEntry("rtmsg sizeof", 12L)
                .containsEntry("nlmsgerr sizeof", 20L)
                .containsEntry("rtattr sizeof", 4L)
                .containsEntry("sockaddr_nl sizeof", 12L);
    }

    // Every static final int (and, if withLongs, long) field: the C expression of the same name, printed as long long.
    private static void addConstants(Class<?> holder, boolean withLongs, CLayouts layouts)
            throws IllegalAccessException {
        for (Field field : holder.getDeclaredFields()) {
            int modifiers = field.getModifiers();
            boolean constant = Modifier.isStatic(modifiers) && Modifier.isFinal(modifiers)
                    && (field.getType() == int.class || (withLongs && field.getType() == long.class));
            if (!constant) continue;
            field.setAccessible(true);
            layouts.print(field.getName(), ((Number) field.get(null)).longValue(), field.getName());
        }
    }
}
