/**
 * The demo: three embedded WebSocket backends, the proxy in front of them, and a page (with a small
 * control API on 127.0.0.1) that shows which backend the browser is on and lets you stop and start
 * backends to watch failover and the new cookie.
 */
@NullMarked
package dev.affinity.examples.demo;

import org.jspecify.annotations.NullMarked;
