package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;

import java.nio.charset.StandardCharsets;

/**
 * The byte-level checks both pass-through scans share ({@link PassThroughHead} for dyno responses,
 * {@link PassThroughRequest} for client requests): a head is copied into a per-thread array, which is much cheaper
 * to walk byte by byte than a (direct) buffer, and read one CRLF-terminated header line at a time. Anything a scan
 * is not sure of makes it give up, and the head takes Netty's decoder as before.
 */
final class HeadScan {
    /** Longer heads take the decoding path (and its limits). */
    static final int MAX_HEAD_BYTES = 4096;
    /** Bytes copied first: a usual head fits, and a 16 KB body need not be copied to find the head's end. */
    static final int FIRST_COPY = 1024;
    static final int MAX_HEADERS = 100;
    /** Lines a scan may leave out of one head (hop-by-hop lines); a head with more takes the decoding path. */
    static final int MAX_DROPPED_LINES = 4;

    /** {@link #nextField}: the line has not all arrived. */
    static final int MORE = -1;
    /** {@link #nextField}: the line is not one a scan passes on. */
    static final int BAD = -2;
    /** {@link #nextField}: the blank line that ends the head. */
    static final int END = -3;

    /** RFC 9110 §5.6.2 tchar. */
    private static final boolean[] TOKEN = new boolean[256];

    static {
        for (char c = '0'; c <= '9'; c++) TOKEN[c] = true;
        for (char c = 'a'; c <= 'z'; c++) TOKEN[c] = true;
        for (char c = 'A'; c <= 'Z'; c++) TOKEN[c] = true;
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) TOKEN[c] = true;
    }

    private static final FastThreadLocal<Scratch> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected Scratch initialValue() {
            return new Scratch();
        }
    };

    /**
     * A thread's working space for a scan, so that scanning a head allocates nothing of its own: the head's copy, a
     * line's field marks ({@link #nextField}), and the start and end of each line a scan leaves out. A scan is done
     * with it before it returns, and scans never nest.
     */
    static final class Scratch {
        final byte[] bytes = new byte[MAX_HEAD_BYTES];
        final int[] field = new int[4];
        final int[] dropped = new int[2 * MAX_DROPPED_LINES];
    }

    private HeadScan() {
    }

    /**
     * A scan of the first {@code n} bytes of {@code in}, copied into {@code scratch.bytes}: a head, its not-yet value
     * or null.
     */
    @FunctionalInterface
    interface Scan<T> {
        T scan(ByteBuf in, Scratch scratch, int n);
    }

    /**
     * Runs {@code scan} on the head at the start of {@code in}: on its first {@link #FIRST_COPY} bytes, then, if
     * those qualify but hold no whole head, on up to {@link #MAX_HEAD_BYTES}. Returns the scan's head, or
     * {@code notYet} if what has come so far qualifies and is shorter than the limit, else null.
     */
    static <T> T read(ByteBuf in, Scan<T> scan, T notYet) {
        int available = Math.min(in.readableBytes(), MAX_HEAD_BYTES);
        Scratch scratch = SCRATCH.get();
        byte[] a = scratch.bytes;
        int copied = Math.min(available, FIRST_COPY);
        in.getBytes(in.readerIndex(), a, 0, copied);
        T head = scan.scan(in, scratch, copied);
        if (head == notYet && copied < available) {
            in.getBytes(in.readerIndex() + copied, a, copied, available - copied); // a long head: all of it
            head = scan.scan(in, scratch, available);
        }
        if (head == notYet && in.readableBytes() >= MAX_HEAD_BYTES) {
            return null; // too long to wait for
        }
        return head;
    }

    /**
     * Reads the line at {@code pos} of {@code a}'s first {@code n} bytes, the head's {@code fieldsSoFar + 1}th
     * after its start line: {@link #END} for the blank line, else as {@link #headerLine}; {@link #BAD} past
     * {@link #MAX_HEADERS}.
     */
    static int nextField(byte[] a, int pos, int n, int fieldsSoFar, int[] field) {
        if (pos >= n) {
            return MORE;
        }
        if (a[pos] == '\r') {
            if (pos + 1 >= n) return MORE;
            return a[pos + 1] == '\n' ? END : BAD;
        }
        return fieldsSoFar == MAX_HEADERS ? BAD : headerLine(a, pos, n, field);
    }

    /**
     * Reads the header line at {@code pos} of {@code a}'s first {@code n} bytes: a token name, a colon, a value
     * without control characters other than tab, then CRLF. Returns the index after its CRLF, {@link #MORE} or
     * {@link #BAD} (no name, whitespace before the colon or at the start, which is obs-fold, a bad byte, a bare LF);
     * {@code field} gets the name's start and length and the value's start and end.
     */
    private static int headerLine(byte[] a, int pos, int n, int[] field) {
        int nameStart = pos;
        while (pos < n && TOKEN[a[pos] & 0xff]) pos++;
        if (pos >= n) {
            return MORE;
        }
        if (pos == nameStart || a[pos] != ':') {
            return BAD;
        }
        int valueStart = pos + 1;
        int end = endOfValue(a, valueStart, n);
        if (end < 0 || end + 1 >= n) {
            return MORE;
        }
        if (a[end] != '\r' || a[end + 1] != '\n') {
            return BAD;
        }
        field[0] = nameStart;
        field[1] = valueStart - 1 - nameStart;
        field[2] = valueStart;
        field[3] = end;
        return end + 2;
    }

    /** The index of the first byte from {@code from} that may not be in a field value (the CR, if well-formed), or -1. */
    static int endOfValue(byte[] a, int from, int n) {
        for (int i = from; i < n; i++) {
            int b = a[i] & 0xff;
            if (b < 0x20 && b != '\t' || b == 0x7f) {
                return i;
            }
        }
        return -1;
    }

    static boolean isOneOf(byte[] a, int start, int length, byte[][] names) {
        for (byte[] name : names) {
            if (nameIs(a, start, length, name)) return true;
        }
        return false;
    }

    /** A field value that is one lower-case token, in any case, optionally wrapped in spaces or tabs. */
    static boolean valueIs(byte[] a, int from, int to, byte[] lowerToken) {
        while (from < to && (a[from] == ' ' || a[from] == '\t')) from++;
        while (to > from && (a[to - 1] == ' ' || a[to - 1] == '\t')) to--;
        return nameIs(a, from, to - from, lowerToken);
    }

    /** Compares a token with a lower-case name: OR-ing 0x20 lowers A-Z and makes no other token character a letter or '-'. */
    static boolean nameIs(byte[] a, int start, int length, byte[] lowerName) {
        if (length != lowerName.length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if ((a[start + i] | 0x20) != lowerName[i]) return false;
        }
        return true;
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
