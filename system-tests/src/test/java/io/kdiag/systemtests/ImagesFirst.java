package io.kdiag.systemtests;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Builds the Kafka image before the first test of the run: the existing ITs this tier runs (KdiagClientIT) start
 * their broker through testkit's TestKafka from that image and know nothing of how it is made.
 */
public final class ImagesFirst implements LauncherSessionListener {
    @Override
    public void launcherSessionOpened(LauncherSession session) {
        if ("testcontainers".equals(System.getProperty(io.kdiag.testkit.TestKafka.KIND_PROPERTY))) {
            Images.kafka();
        }
    }
}
