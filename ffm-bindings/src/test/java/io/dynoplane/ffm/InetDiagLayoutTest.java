package io.dynoplane.ffm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The sock_diag structs and constants of InetDiagStructs against what gcc makes of the kernel's UAPI headers. */
class InetDiagLayoutTest {
    private static final String HEADERS = """
            #define _GNU_SOURCE
            #include <stddef.h>
            #include <stdio.h>
            #include <netinet/in.h>
            #include <netinet/tcp.h>
            #include <linux/netlink.h>
            #include <linux/sock_diag.h>
            #include <linux/inet_diag.h>
            """;

    @Test
    void layoutsAndConstantsMatchTheHeaders(@TempDir Path dir) throws IOException, IllegalAccessException {
        CLayouts layouts = new CLayouts().structs(InetDiagStructs.ALL);
        for (Field field : InetDiagStructs.class.getDeclaredFields()) {
            int modifiers = field.getModifiers();
            if (!Modifier.isStatic(modifiers) || !Modifier.isFinal(modifiers) || field.getType() != int.class) continue;
            field.setAccessible(true);
            layouts.print(field.getName(), field.getInt(null), field.getName());
        }
        Map<String, Long> cView = layouts.cView(dir, HEADERS);

        assertThat(layouts.javaView).isEqualTo(cView);
        assertThat(cView).containsEntry("inet_diag_sockid sizeof", 48L)
                .containsEntry("inet_diag_req_v2 sizeof", 56L)
                .containsEntry("inet_diag_msg sizeof", 72L)
                .containsEntry("TCP_LISTEN", 10L);
    }
}
