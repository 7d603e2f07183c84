package io.dynoplane.provisioner;

/** Wiring or unwiring a dyno failed; the message names the dyno or kernel object. */
public final class ProvisioningException extends RuntimeException {
    public ProvisioningException(String message) { super(message); }
    public ProvisioningException(String message, Throwable cause) { super(message, cause); }
}
