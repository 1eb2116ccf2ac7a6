/**
 * Discovered membership: backends that come from DNS (A/AAAA or SRV records) or a watched file,
 * kept in step with a {@link dev.affinity.backend.BackendGroup} by {@link
 * dev.affinity.discovery.DiscoveredMembership}. Uses only the JDK (the JNDI DNS provider), so any
 * adapter or embedding can use it.
 */
@NullMarked
package dev.affinity.discovery;

import org.jspecify.annotations.NullMarked;
