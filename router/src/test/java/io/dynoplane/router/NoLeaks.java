package io.dynoplane.router;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Fails a test class if any Netty buffer leaked while it ran (see {@link LeakRecordingDetector}). */
final class NoLeaks implements AfterAllCallback {
    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        LeakRecordingDetector.assertNoLeaks();
    }
}
