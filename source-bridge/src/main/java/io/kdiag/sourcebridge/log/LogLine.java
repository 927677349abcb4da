package io.kdiag.sourcebridge.log;

/**
 * One log message and where it was read.
 *
 * @param position a stable identity of the place it was read (file inode and offset, kmsg boot and sequence number, journal
 *     cursor), so reading it again after a crash is recognised as a duplicate
 * @param message the message the rules are matched against
 */
record LogLine(String position, String message) {
}
