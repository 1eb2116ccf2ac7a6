/**
 * Proxy benchmark tools: {@link dev.affinity.loadtest.LoadGenerator} and {@link
 * dev.affinity.loadtest.EchoServer}. Not API.
 */
@NullMarked
package dev.affinity.loadtest;

import org.jspecify.annotations.NullMarked;
