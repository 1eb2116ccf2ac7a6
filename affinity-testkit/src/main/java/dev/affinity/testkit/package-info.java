/**
 * Test support shared by the adapter tests; not published, not API.
 *
 * <ul>
 *   <li>{@link dev.affinity.testkit.EchoBackend}: real WebSocket echo backends that announce their
 *       id, can be stopped and restarted on the same port, negotiate subprotocols and {@code
 *       permessage-deflate}, answer non-101 statuses, hang, and flood;
 *   <li>{@link dev.affinity.testkit.WsClient}: two independent real clients (JDK and Jetty) and
 *       {@link dev.affinity.testkit.RawConnection} for edge cases;
 *   <li>{@link dev.affinity.testkit.AdapterScenarios}: the end-to-end scenarios every adapter
 *       passes, run by subclassing.
 * </ul>
 */
@NullMarked
package dev.affinity.testkit;

import org.jspecify.annotations.NullMarked;
