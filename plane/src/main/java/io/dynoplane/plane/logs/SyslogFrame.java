package io.dynoplane.plane.logs;

import io.dynoplane.plane.LogLine;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * A line as Logplex sends it: RFC 5424 {@code <PRI>1 TIMESTAMP HOST APP PROCID - - MSG} (HOST the drain token,
 * APP the source, PROCID the process), framed by RFC 6587 octet counting: {@code LENGTH SP MESSAGE}, the
 * length in bytes of the UTF-8 message.
 */
final class SyslogFrame {
    /** local7.info for the dynos' own output, local3.info for the platform's lines (router, state changes). */
    static final int PRI_APP = 23 * 8 + 6;
    static final int PRI_HEROKU = 19 * 8 + 6;

    private static final DateTimeFormatter RFC3339_MICROS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSxxx").withZone(ZoneOffset.UTC);

    private SyslogFrame() {}

    static byte[] message(LogLine line, String host) {
        int pri = "app".equals(line.source()) ? PRI_APP : PRI_HEROKU;
        String text = "<" + pri + ">1 " + RFC3339_MICROS.format(line.at()) + " " + field(host) + " "
                + field(line.source()) + " " + field(line.process()) + " - - " + line.message();
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] frames(List<LogLine> lines, String host) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(lines.size() * 128);
        for (LogLine line : lines) {
            byte[] message = message(line, host);
            out.writeBytes((message.length + " ").getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(message);
        }
        return out.toByteArray();
    }

    /** Header fields are printable ASCII without spaces (RFC 5424 PRINTUSASCII); anything else becomes '_'. */
    private static String field(String value) {
        if (value == null || value.isEmpty()) return "-";
        StringBuilder clean = new StringBuilder(value.length());
        value.chars().forEach(c -> clean.append(c > 32 && c < 127 ? (char) c : '_'));
        return clean.toString();
    }
}
