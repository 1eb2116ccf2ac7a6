/**
 * TLS material both adapters read the same way: a PEM certificate chain and PKCS#8 key for a
 * listener, a PEM CA file for backends, and the change stamp that tells a renewed file. <strong>Not
 * API</strong>: the adapters call it, applications should not; anything here may change in any
 * release.
 */
@NullMarked
package dev.affinity.internal.tls;

import org.jspecify.annotations.NullMarked;
