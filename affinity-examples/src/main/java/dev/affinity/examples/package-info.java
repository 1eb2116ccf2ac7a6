/**
 * {@code affinity-examples.jar}: the {@code affinity-proxy} command with the demo plugged in. Not
 * API: the command line is the interface.
 */
@NullMarked
package dev.affinity.examples;

import org.jspecify.annotations.NullMarked;
