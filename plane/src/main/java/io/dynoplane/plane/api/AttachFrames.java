package io.dynoplane.plane.api;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * The frame protocol of an attached one-off dyno, spoken on the request's connection after the
 * {@code 101 Switching Protocols} answer: each frame is 1 byte stream id, a 4-byte big-endian
 * payload length, then the payload.
 * <ul>
 *   <li>{@link #STDIN} (0), client to server: bytes for the command's stdin; an empty frame closes stdin (EOF).</li>
 *   <li>{@link #STDOUT} (1), {@link #STDERR} (2), server to client: the command's output.</li>
 *   <li>{@link #EXIT} (3), server to client, last: 4-byte big-endian exit status; then the server closes.</li>
 * </ul>
 * The client closing the connection before {@code EXIT} stops the dyno.
 */
public final class AttachFrames {
    public static final int STDIN = 0, STDOUT = 1, STDERR = 2, EXIT = 3;
    /** A frame longer than this is a protocol error (the streams send at most a pipe buffer at a time). */
    public static final int MAX_PAYLOAD = 1 << 20;

    private AttachFrames() {}

    public record Frame(int stream, byte[] payload) {
        public int exitStatus() { return ByteBuffer.wrap(payload).getInt(); }
    }

    /** Writes one frame; callers sharing {@code out} between threads synchronise on it. */
    public static void write(OutputStream out, int stream, byte[] payload, int offset, int length) throws IOException {
        byte[] head = ByteBuffer.allocate(5).put((byte) stream).putInt(length).array();
        out.write(head);
        out.write(payload, offset, length);
        out.flush();
    }

    public static void writeExit(OutputStream out, int status) throws IOException {
        write(out, EXIT, ByteBuffer.allocate(4).putInt(status).array(), 0, 4);
    }

    /** The next frame, or null at a clean end of stream (between frames). */
    public static Frame read(InputStream in) throws IOException {
        int stream = in.read();
        if (stream < 0) return null;
        DataInputStream data = new DataInputStream(in);
        int length;
        try {
            length = data.readInt();
        } catch (EOFException e) {
            throw new IOException("attach stream ended inside a frame header");
        }
        if (stream > EXIT || length < 0 || length > MAX_PAYLOAD) throw new IOException("bad attach frame: stream " + stream + ", length " + length);
        byte[] payload = new byte[length];
        data.readFully(payload);
        return new Frame(stream, payload);
    }
}
